"""Omnimatte layers: a background plus one RGBA layer per object, fitted at test time.

`optimise.fit_layers` is the optimiser (DESIGN.md, Omnimatte); `sources` gets the background
and the solo videos (ground truth, or a registered removal method such as Casper); `method`
registers it as the layering method ``omnimatte``; `edits` removes, retimes and inserts layers.
"""
