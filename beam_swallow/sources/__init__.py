"""Sources as they are published: The Stack v2's metadata shards, and S3 stores.

``stack_v2`` reads the shards (either layout) into one record per file, judged
on its metadata before anything is fetched; ``blobs`` judges a fetched blob's
bytes (gzip, encoding, NUL); ``s3`` holds what reaching an S3 store takes
(settings, a client, a check that fails fast). The fetch stage
itself is :mod:`beam_swallow.transforms.fetch`.
"""
