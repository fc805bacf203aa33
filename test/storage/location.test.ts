import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { basenameLocation, dirnameLocation, isRemote, joinLocation, localStateDir, parseS3Location, relativeLocation, resolveLocation, s3Settings } from '../../src/storage/index.js';

describe('locations', () => {
  it('joins, splits and relates s3:// locations without collapsing the scheme', () => {
    expect(joinLocation('s3://b/lake', 'silver', 'pbp')).toBe('s3://b/lake/silver/pbp');
    expect(joinLocation('s3://b/lake/', '/silver/', 'season=2020/part-1.parquet')).toBe('s3://b/lake/silver/season=2020/part-1.parquet');
    expect(joinLocation('s3://b', '_delta_log')).toBe('s3://b/_delta_log');
    expect(dirnameLocation('s3://b/lake/t/_delta_log/00000000000000000000.json')).toBe('s3://b/lake/t/_delta_log');
    expect(dirnameLocation('s3://b/x')).toBe('s3://b');
    expect(basenameLocation('s3://b/lake/t/part-1.parquet')).toBe('part-1.parquet');
    expect(relativeLocation('s3://b/lake/t', 's3://b/lake/t/season=2020/part-1.parquet')).toBe('season=2020/part-1.parquet');
    expect(parseS3Location('s3://bucket/a/b')).toEqual({ bucket: 'bucket', key: 'a/b' });
    expect(parseS3Location('s3://bucket')).toEqual({ bucket: 'bucket', key: '' });
    expect(resolveLocation('s3://b/lake/')).toBe('s3://b/lake');
  });

  it('leaves local paths to node:path', () => {
    expect(isRemote('/tmp/x')).toBe(false);
    expect(joinLocation('/tmp/lake', 'silver', 'pbp')).toBe(path.join('/tmp/lake', 'silver', 'pbp'));
    expect(relativeLocation('/tmp/lake', '/tmp/lake/a/b.parquet')).toBe('a/b.parquet');
    expect(resolveLocation('tables')).toBe(path.resolve('tables'));
    expect(localStateDir('/tmp/lake')).toBeUndefined();
  });

  it('keeps what an S3 lake cannot store remotely in one local folder per lake root, under LAKE_TEMP_DIR when set', () => {
    const a = localStateDir('s3://b/lake', { LAKE_TEMP_DIR: '/scratch' })!;
    expect(a.startsWith(path.join('/scratch', 'nfl-lakehouse-s3'))).toBe(true);
    expect(localStateDir('s3://b/lake/', { LAKE_TEMP_DIR: '/scratch' })).toBe(a);
    expect(localStateDir('s3://b/other', { LAKE_TEMP_DIR: '/scratch' })).not.toBe(a);
  });
});

describe('S3 settings from the environment', () => {
  it('uses the standard AWS variables; path-style with an endpoint unless LAKE_S3_PATH_STYLE says otherwise', () => {
    expect(s3Settings({})).toEqual({ endpoint: undefined, region: 'us-east-1', pathStyle: false });
    expect(s3Settings({ AWS_ENDPOINT_URL: 'http://127.0.0.1:9000/', AWS_DEFAULT_REGION: 'eu-west-1' })).toEqual({ endpoint: 'http://127.0.0.1:9000', region: 'eu-west-1', pathStyle: true });
    expect(s3Settings({ AWS_ENDPOINT_URL: 'http://a:1', AWS_ENDPOINT_URL_S3: 'http://s3:2', AWS_REGION: 'x', AWS_DEFAULT_REGION: 'y' })).toEqual({ endpoint: 'http://s3:2', region: 'x', pathStyle: true });
    expect(s3Settings({ LAKE_S3_PATH_STYLE: '1' }).pathStyle).toBe(true);
    expect(s3Settings({ AWS_ENDPOINT_URL: 'http://a:1', LAKE_S3_PATH_STYLE: '0' }).pathStyle).toBe(false);
  });
});
