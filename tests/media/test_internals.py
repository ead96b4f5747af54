"""The start-up check of the aiortc internals the relay relies on."""

from __future__ import annotations

import datetime
from typing import Any

import aioice.turn
import aiortc
import pytest
from aiortc import RTCRtpSender
from aiortc.rtcdtlstransport import SRTP_PROFILES, RTCCertificate, RTCDtlsTransport
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from OpenSSL import SSL

from live.media import internals
from live.media.internals import MediaUnavailable


def test_the_pinned_aiortc_passes() -> None:
    internals.check()


@pytest.mark.parametrize("breakage", ["version", "pli", "keyframe_hook", "buffer_size",
                                      "dtls_suites", "dtls_context"])
def test_a_moved_internal_stops_the_start_with_the_fix(monkeypatch: pytest.MonkeyPatch,
                                                       breakage: str) -> None:
    if breakage == "version":
        monkeypatch.setattr(aiortc, "__version__", "1.17.0")
    elif breakage == "pli":
        monkeypatch.delattr(aiortc.RTCRtpReceiver, "_send_rtcp_pli")
    elif breakage == "keyframe_hook":
        monkeypatch.delattr(RTCRtpSender, "_send_keyframe")
    elif breakage == "dtls_suites":  # aiortc's list changed: ours would replace it with a stale one
        def other_suites(self: RTCCertificate, srtp_profiles: Any) -> SSL.Context:
            context = SSL.Context(SSL.DTLS_METHOD)
            context.set_cipher_list(b"ECDHE-ECDSA-AES256-GCM-SHA384")
            return context
        monkeypatch.delattr(RTCCertificate, "_tribune_original_ssl_context", raising=False)
        monkeypatch.setattr(RTCCertificate, "_create_ssl_context", other_suites)
    elif breakage == "dtls_context":  # the transport builds its SSL context some other way
        async def start(self: RTCDtlsTransport, remoteParameters: Any) -> None:
            pass
        monkeypatch.setattr(RTCDtlsTransport, "start", start)
    else:
        monkeypatch.delattr(aioice.turn, "UDP_SOCKET_BUFFER_SIZE")
    with pytest.raises(MediaUnavailable, match=r"pip install 'aiortc>=1.16,<1.17'"):
        internals.check()


def rsa_server() -> SSL.Connection:
    """A DTLS server holding an RSA certificate, set up as GStreamer's DTLS agent is
    (gst-plugins-bad ext/dtls: a 2048-bit RSA key, OpenSSL's cipher list minus the weak ones)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "webrtc")])
    now = datetime.datetime.now(tz=datetime.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(days=1))
                   .not_valid_after(now + datetime.timedelta(days=30))
                   .sign(key, hashes.SHA256()))
    context = SSL.Context(SSL.DTLS_METHOD)
    context.set_verify(SSL.VERIFY_PEER, lambda *args: True)
    context.use_certificate(certificate)
    context.use_privatekey(key)
    context.set_cipher_list(b"ALL:!ADH:!LOW:!EXP:!MD5:@STRENGTH")
    context.set_tlsext_use_srtp(b"SRTP_AES128_CM_SHA1_80")
    return SSL.Connection(context)


def ecdsa_server() -> SSL.Connection:
    """A DTLS server with the kind of certificate browsers use (ECDSA P-256), with aiortc's own
    context: what a browser's DTLS server picks from the relay's suites."""
    build = getattr(RTCCertificate, "_tribune_original_ssl_context",
                    RTCCertificate._create_ssl_context)
    return SSL.Connection(build(RTCCertificate.generateCertificate(), srtp_profiles=SRTP_PROFILES))


def relay_client(context: str = "_create_ssl_context") -> SSL.Connection:
    """The relay's end, as aiortc's DTLS transport builds it when it answers `a=setup:active`."""
    build = getattr(RTCCertificate, context)
    return SSL.Connection(build(RTCCertificate.generateCertificate(), srtp_profiles=SRTP_PROFILES))


def handshake(client: SSL.Connection, server: SSL.Connection) -> tuple[str, bytes]:
    """Both ends in memory: the suite and SRTP profile they agree on (SSL.Error if none)."""
    client.set_connect_state()
    server.set_accept_state()
    for _ in range(10):
        done = True
        for end in (client, server):
            try:
                end.do_handshake()
            except SSL.WantReadError:
                done = False
        for source, target in ((client, server), (server, client)):
            while True:
                try:
                    target.bio_write(source.bio_read(65536))
                except SSL.WantReadError:
                    break
        if done:
            return str(client.get_cipher_name()), client.get_selected_srtp_profile()
    raise AssertionError("the handshake did not finish")


def test_the_relay_completes_a_handshake_with_an_rsa_certificate_server() -> None:
    internals.offer_rsa_certificate_suites()
    internals.offer_rsa_certificate_suites()  # idempotent: the Relay of every test calls it
    assert handshake(relay_client(), rsa_server()) == ("ECDHE-RSA-AES128-GCM-SHA256",
                                                       b"SRTP_AES128_CM_SHA1_80")
    internals.check()  # still recognises aiortc's method once wrapped
    # aiortc's own list cannot (the failure GStreamer logged):
    with pytest.raises(SSL.Error, match="no shared cipher"):
        handshake(relay_client("_tribune_original_ssl_context"), rsa_server())


def test_a_browser_like_server_agrees_on_what_it_did_before() -> None:
    internals.offer_rsa_certificate_suites()
    before = handshake(relay_client("_tribune_original_ssl_context"), ecdsa_server())
    assert before == ("ECDHE-ECDSA-AES128-GCM-SHA256", b"SRTP_AEAD_AES_256_GCM")
    assert handshake(relay_client(), ecdsa_server()) == before


def test_peer_connections_share_a_certificate_and_build_estimators_when_used() -> None:
    import aiortc.rtcrtpreceiver
    from aiortc.rate import RemoteBitrateEstimator

    internals.lighten_per_viewer_work()
    first, second = aiortc.RTCPeerConnection(), aiortc.RTCPeerConnection()
    shared = [pc._RTCPeerConnection__certificates[0]  # type: ignore[attr-defined]
              for pc in (first, second)]
    assert shared[0] is shared[1] and shared[0].getFingerprints()
    lazy, real = aiortc.rtcrtpreceiver.RemoteBitrateEstimator(), RemoteBitrateEstimator()
    assert lazy._estimator is None  # type: ignore[attr-defined]  # nothing built yet
    for n in range(200):  # 5 ms apart, 1,200 bytes each
        packet = {"abs_send_time": (n * 5 << 18) // 1000, "arrival_time_ms": 1000 + n * 5,
                  "payload_size": 1200, "ssrc": 1}
        assert lazy.add(**packet) == real.add(**packet)
