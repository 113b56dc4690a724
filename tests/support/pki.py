"""A throwaway CA and certificates for TLS distribution tests."""

import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write(directory, stem, cert, key):
    cert_path = Path(directory) / ('%s.pem' % stem)
    key_path = Path(directory) / ('%s.key' % stem)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o400)
    return cert_path, key_path


class CA:
    def __init__(self, directory, name='beamsec test CA'):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        self.cert = (x509.CertificateBuilder().subject_name(_name(name)).issuer_name(_name(name))
                     .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(now - datetime.timedelta(days=1))
                     .not_valid_after(now + datetime.timedelta(days=30))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                     .sign(self.key, hashes.SHA256()))
        stem = name.replace(' ', '_')
        self.cert_path, dummy = _write(self.directory, stem, self.cert, self.key)

    def issue(self, common_name, hosts=('127.0.0.1', 'localhost'), days=30, expired=False, ip_as_dns=False):
        """A node certificate; ip_as_dns also lists each IP as a dNSName, which OTP's TLS dist client needs."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        start, end = now - datetime.timedelta(days=1), now + datetime.timedelta(days=days)
        if expired:
            start, end = now - datetime.timedelta(days=10), now - datetime.timedelta(days=1)
        alt = [x509.IPAddress(ipaddress.ip_address(h)) if h[0].isdigit() else x509.DNSName(h) for h in hosts]
        alt += [x509.DNSName(h) for h in hosts if ip_as_dns and h[0].isdigit()]
        cert = (x509.CertificateBuilder().subject_name(_name(common_name)).issuer_name(self.cert.subject)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(start).not_valid_after(end)
                .add_extension(x509.SubjectAlternativeName(alt), critical=False)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                      ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
                .sign(self.key, hashes.SHA256()))
        return _write(self.directory, common_name, cert, key)


def ssl_dist_optfile(path, cert, key, cacert, verify=True):
    """An -ssl_dist_optfile with mutual TLS (verify_peer, fail_if_no_peer_cert)."""
    common = '{certfile, "%s"}, {keyfile, "%s"}, {cacertfile, "%s"}' % (cert, key, cacert)
    if verify:
        server = '[%s, {verify, verify_peer}, {fail_if_no_peer_cert, true}, {secure_renegotiate, true}]' % common
        client = '[%s, {verify, verify_peer}, {secure_renegotiate, true}]' % common
    else:
        server = client = '[%s]' % common
    Path(path).write_text('[{server, %s}, {client, %s}].\n' % (server, client))
    return path
