"""core.proxy: every accepted form, each refusal with its reason, masking, and the stored form."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import ProxyRefused
from core.proxy import ProxySpec, make_spec, normalise_secret, parse_proxy
from core.texts import proxy as texts

SECRET = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("socks5://alice:s3cret@proxy.example.com:1080",
         ProxySpec("socks5", "proxy.example.com", 1080, "alice", "s3cret")),
        ("SOCKS5H://10.0.0.1:9050", ProxySpec("socks5", "10.0.0.1", 9050)),
        ("socks5://u%40x:p%3Aw@[2001:db8::1]:1080", ProxySpec("socks5", "2001:db8::1", 1080, "u@x", "p:w")),
        ("http://bob:pw@1.2.3.4:3128", ProxySpec("http", "1.2.3.4", 3128, "bob", "pw")),
        ("http://1.2.3.4:8080", ProxySpec("http", "1.2.3.4", 8080)),
        (f"mtproxy://{SECRET}@mt.example.org:443", ProxySpec("mtproxy", "mt.example.org", 443, secret=SECRET)),
        (f"mtproxy://dd{SECRET.upper()}@mt.example.org:443",
         ProxySpec("mtproxy", "mt.example.org", 443, secret="dd" + SECRET)),
        (f"tg://proxy?server=mt.example.org&port=443&secret={SECRET}",
         ProxySpec("mtproxy", "mt.example.org", 443, secret=SECRET)),
        (f"https://t.me/proxy?server=5.6.7.8&port=8443&secret=dd{SECRET}",
         ProxySpec("mtproxy", "5.6.7.8", 8443, secret="dd" + SECRET)),
        (f"t.me/proxy?server=5.6.7.8&port=8443&secret={SECRET}", ProxySpec("mtproxy", "5.6.7.8", 8443, secret=SECRET)),
        ("tg://socks?server=9.9.9.9&port=1080&user=carol&pass=x",
         ProxySpec("socks5", "9.9.9.9", 1080, "carol", "x")),
        ("https://t.me/socks?server=9.9.9.9&port=1080", ProxySpec("socks5", "9.9.9.9", 1080)),
    ],
)
def test_accepted_forms(text: str, expected: ProxySpec) -> None:
    spec = parse_proxy(text)
    assert spec == expected
    assert (spec.password, spec.secret) == (expected.password, expected.secret)  # repr=False fields compare too
    assert parse_proxy(spec.url()) == spec  # the stored form reads back the same


def test_base64_secret_from_a_link_is_normalised_to_hex() -> None:
    import base64

    b64 = base64.urlsafe_b64encode(bytes.fromhex("dd" + SECRET)).decode().rstrip("=")
    assert normalise_secret(b64) == "dd" + SECRET


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", texts.EMPTY()),
        ("   ", texts.EMPTY()),
        ("hello", texts.NOT_A_URL()),
        ("socks4://1.2.3.4:1080", texts.SOCKS4()),
        ("ftp://1.2.3.4:21", texts.unknown_type("ftp")),
        ("socks5://1.2.3.4", texts.BAD_PORT()),
        ("socks5://1.2.3.4:0", texts.BAD_PORT()),
        ("socks5://1.2.3.4:70000", texts.BAD_PORT()),
        ("socks5://1.2.3.4:port", texts.BAD_PORT()),
        ("socks5://bad_host!:1080", texts.BAD_HOST()),
        ("socks5://999.1.1.1:1080", texts.BAD_HOST()),
        ("socks5://[::1:1080", texts.NOT_A_URL()),
        ("socks5://" + "u" * 300 + ":p@1.2.3.4:1080", texts.BAD_CREDENTIALS()),
        ("mtproxy://1.2.3.4:443", texts.NO_SECRET()),
        ("mtproxy://abcd@1.2.3.4:443", texts.BAD_SECRET()),
        (f"mtproxy://ee{SECRET}676f6f676c652e636f6d@1.2.3.4:443", texts.FAKE_TLS()),
        ("tg://proxy?server=1.2.3.4&secret=" + SECRET, texts.BAD_PORT()),
        ("tg://resolve?domain=x", texts.NOT_A_URL()),
        ("https://t.me/durov", texts.NOT_A_URL()),
    ],
)
def test_refused_with_reason(text: str, reason: str) -> None:
    with pytest.raises(ProxyRefused) as err:
        parse_proxy(text)
    assert err.value.user_message == reason


def test_masked_never_shows_credentials() -> None:
    spec = parse_proxy("socks5://alice:s3cret@proxy.example.com:1080")
    assert spec.masked() == "socks5://proxy.example.com:1080" == str(spec)
    assert "s3cret" not in repr(spec) and "s3cret" not in spec.masked()
    mt = parse_proxy(f"mtproxy://{SECRET}@[2001:db8::2]:443")
    assert mt.masked() == "mtproxy://[2001:db8::2]:443"
    assert SECRET not in repr(mt) and SECRET not in str(mt)
    assert "s3cret" in spec.url() and SECRET in mt.url()  # the stored form keeps them


def test_parts_as_sellers_write_them() -> None:
    assert make_spec(2, "1.2.3.4", "1080", "u", "p") == ProxySpec("socks5", "1.2.3.4", 1080, "u", "p")
    assert make_spec("HTTP", "h.example", 80) == ProxySpec("http", "h.example", 80)
    with pytest.raises(ProxyRefused):
        make_spec("socks5", "1.2.3.4", 1080, None, "password-without-user")
    with pytest.raises(ProxyRefused):
        make_spec(1, "1.2.3.4", 1080)
    with pytest.raises(ProxyRefused):
        make_spec("socks5", "1.2.3.4", True)


@given(st.text(max_size=300))
def test_any_text_parses_or_is_refused(text: str) -> None:
    try:
        spec = parse_proxy(text)
    except ProxyRefused as exc:
        assert exc.user_message
    else:
        assert parse_proxy(spec.url()) == spec
