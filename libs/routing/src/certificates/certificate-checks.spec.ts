import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValidationError } from '@wharf/core';
import { checkUploadedCertificate, DnsCheck, dnsProblem } from './certificate-checks';

/** A self-signed certificate (its own complete chain) for `names`, made by openssl (argument arrays). */
function selfSigned(names: string[]): { certificatePem: string; privateKeyPem: string } {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-cert-spec-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '3',
      '-subj', `/CN=${names[0]}`, '-addext', `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`,
    ], { stdio: 'ignore' });
    return { certificatePem: readFileSync(join(dir, 'c.pem'), 'utf8'), privateKeyPem: readFileSync(join(dir, 'k.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const detailOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).errors?.[0]?.detail ?? '';
  }
  throw new Error('expected a validation error');
};

describe('uploaded wildcard certificates', () => {
  const wildcard = selfSigned(['*.example.test']);

  it('a wildcard certificate covers a wildcard host and a specific host one label under it', () => {
    expect(checkUploadedCertificate({ ...wildcard, hosts: ['*.example.test'] }).facts.names).toEqual(['*.example.test']);
    expect(checkUploadedCertificate({ ...wildcard, hosts: ['x.example.test'] }).facts.names).toEqual(['*.example.test']);
  });

  it('but not the base name, a name two labels down, or another wildcard', () => {
    for (const h of ['example.test', 'a.b.example.test', '*.b.example.test', '*.example.org']) {
      expect(detailOf(() => checkUploadedCertificate({ ...wildcard, hosts: [h] }))).toBe(`the certificate does not cover ${h}`);
    }
  });

  it('a certificate for one specific name does not cover a wildcard host', () => {
    const single = selfSigned(['x.example.test']);
    expect(detailOf(() => checkUploadedCertificate({ ...single, hosts: ['*.example.test'] }))).toBe('the certificate does not cover *.example.test');
  });
});

describe('dnsProblem for wildcards', () => {
  const check = (over: Partial<DnsCheck>): DnsCheck => ({
    host: '*.example.test', addresses: [], expected: ['203.0.113.7'], pointsHere: false, resolveError: 'NXDOMAIN (the name does not exist)', caa: { allowed: true, at: null, issuers: [] }, ...over,
  });

  it('needs no address record under DNS-01 (nor for a wildcard at all: only DNS-01 can validate one)', () => {
    expect(dnsProblem(check({}), 'dns-01')).toBeNull();
    expect(dnsProblem(check({}), 'http-01')).toBeNull();
    // A specific name on HTTP-01 still must resolve here.
    expect(dnsProblem(check({ host: 'x.example.test' }), 'http-01')).toMatchObject({ reason: 'dns-missing' });
  });

  it('CAA still decides, and the message points at issuewild', () => {
    const p = dnsProblem(check({ caa: { allowed: false, at: 'example.test', issuers: ['other-ca.example'] } }), 'dns-01');
    expect(p).toMatchObject({ reason: 'caa-forbidden' });
    expect(p!.message).toBe('CAA records at example.test allow only other-ca.example to issue for *.example.test; add an issuewild (or issue) record for this CA');
  });
});
