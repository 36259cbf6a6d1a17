"""Network adapters (X, Facebook Pages, Sandbox) behind one interface."""
