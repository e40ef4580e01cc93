"""Method recipes: the field's published removal methods run from their own local checkouts.

One module per method, each a `common.Recipe` (or `common.Unavailable`) registered by name in
`genbench.methods.METHODS`; `genbench methods` lists them with their status. docs/methods.md says
how to install each one next to genbench.
"""
