"""Publish genbench datasets in the Hugging Face Hub's layout: Parquet shards, a dataset card, a push.

`export.export(datasets, out)` writes exactly what `push.push(out, repo_id)` uploads;
`unpack.unpack(folder, out, ...)` turns a config's shards back into a dataset folder, byte for byte.
"""
