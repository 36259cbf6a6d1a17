"""The Approvals screen and the notifications of what waits on the person acting."""
