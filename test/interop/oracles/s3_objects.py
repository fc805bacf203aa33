"""Copies table folders to and from an S3-compatible server with boto3, independently of our S3 store.

    s3_objects.py upload <local_dir> s3://bucket/prefix     # every file under local_dir, keys relative to it
    s3_objects.py download s3://bucket/prefix <local_dir>   # every object under prefix/, paths relative to it
    s3_objects.py list s3://bucket/prefix                   # the keys under prefix/, relative to it

The server and credentials come from the standard AWS environment variables (AWS_ENDPOINT_URL,
AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), which test/helpers/s3-server.ts hands out;
path-style addressing, as S3-compatible servers on 127.0.0.1 need. Prints {files, bytes} or {keys};
on failure prints {error} and exits 1.
"""

from __future__ import annotations

import json
import os
import sys

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree


def client():
    import boto3
    from botocore.config import Config

    return boto3.client('s3', config=Config(s3={'addressing_style': 'path'}))


def split(url: str) -> tuple[str, str]:
    if not url.startswith('s3://'):
        raise ValueError(f'not an s3:// URL: {url}')
    bucket, _, prefix = url[len('s3://'):].partition('/')
    return bucket, prefix.strip('/')


def keys_under(s3, bucket: str, prefix: str) -> list[str]:
    keys: list[str] = []
    for page in s3.get_paginator('list_objects_v2').paginate(Bucket=bucket, Prefix=f'{prefix}/' if prefix else ''):
        keys.extend(o['Key'] for o in page.get('Contents', []))
    return keys


def upload(local: str, url: str) -> dict:
    s3 = client()
    bucket, prefix = split(url)
    files = 0
    size = 0
    for folder, _, names in os.walk(local):
        for name in sorted(names):
            path = os.path.join(folder, name)
            relative = os.path.relpath(path, local).replace(os.sep, '/')
            s3.upload_file(path, bucket, f'{prefix}/{relative}' if prefix else relative)
            files += 1
            size += os.path.getsize(path)
    return {'files': files, 'bytes': size}


def download(url: str, local: str) -> dict:
    s3 = client()
    bucket, prefix = split(url)
    files = 0
    size = 0
    for key in keys_under(s3, bucket, prefix):
        relative = key[len(prefix) + 1:] if prefix else key
        if not relative or relative.endswith('/'):
            continue  # folder markers (Spark writes `_delta_log/_staged_commits/`)
        path = os.path.join(local, *relative.split('/'))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        s3.download_file(bucket, key, path)
        files += 1
        size += os.path.getsize(path)
    return {'files': files, 'bytes': size}


def main() -> int:
    op, args = sys.argv[1], sys.argv[2:]
    try:
        if op == 'upload':
            answer = upload(args[0], args[1])
        elif op == 'download':
            answer = download(args[0], args[1])
        elif op == 'list':
            bucket, prefix = split(args[0])
            answer = {'keys': sorted(k[len(prefix) + 1:] if prefix else k for k in keys_under(client(), bucket, prefix))}
        else:
            raise ValueError(f'unknown operation {op!r}: upload, download or list')
    except Exception as error:  # the error text is the answer
        print(json.dumps({'error': f'{type(error).__name__}: {error}'}))
        return 1
    print(json.dumps(answer))
    return 0


if __name__ == '__main__':
    sys.exit(main())
