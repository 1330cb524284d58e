"""Publishing to an S3-compatible object store: `bucket.py` (the client and its requests),
`manifest.py` (what feedpub wrote under a prefix), `publisher.py` (the safe order of a publish).

Nothing here is imported unless a build's target is an `s3://` URL; boto3 (the `s3` extra) only
when a bucket is opened.
"""
