"""genbench.baselines"""
