"""Ingest: record files -> the index -> what each feed carries, as validated Articles.

    files.py    which record files a site has, and their signatures (the no-op look)
    decode.py   the bytes of a record file as JSON values
    scan.py     one file -> what the index keeps of it (FileScan)
    workers.py  many files, on two processes
    index.py    the on-disk index of every record (SQLite): each feed's candidates for the chooser
    load.py     the chosen records read again and checked in full
    stage.py    the stage as a whole: ingest() with its retries
    rows.py     the rows of a [source] database as validated Articles, merged with the record files

Which records a feed carries is decided by feedpub/selection.py, for both sources.

Kept free of imports: a run with nothing to do only needs files.py.
"""
