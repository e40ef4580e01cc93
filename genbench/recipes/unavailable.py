"""Methods the field compares against that genbench lists but cannot run (yet), with what was searched.

They are registered so `genbench methods` shows them with the reason; building one raises that reason.
No interface is guessed for code that was not read.
"""

from __future__ import annotations

from genbench.recipes.common import STATUS_NO_CODE, Source, Unavailable


class Svor(Unavailable):
    name = "svor"
    source = Source("", "", "From Ideal to Real: Stable Video Object Removal under Imperfect Conditions "
                            "(arXiv 2603.09283)")
    status_kind = STATUS_NO_CODE
    reason = ("no public code found: searched GitHub code for SVOR / 'stable video object removal'; only a hosted "
              "API client (clawhub 'mi-visionforge-svor') exists")
