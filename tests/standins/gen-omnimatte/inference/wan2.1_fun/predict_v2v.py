"""Stand-in for gen-omnimatte-public inference/wan2.1_fun/predict_v2v.py."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
from standin_casper import main

main("480x832", 81)
