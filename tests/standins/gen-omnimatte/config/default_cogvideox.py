"""Stand-in config file: predict_v2v.py needs it to exist (relative to the checkout)."""
