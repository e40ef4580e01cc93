"""Stand-in: the script imports this module from the checkout; present so the checkout looks complete."""
