"""Verify a 随申码 or any trusted Yangtze River Delta platform's code offline, with our trust list.

A scanner pins our JWKS once (the anchor), downloads the trust list while online (once a day is
enough: it is valid 24 h), and then verifies codes of Shanghai, Jiangsu, Zhejiang and Anhui
platforms with no network at all:

    # online: fetch the anchor (first time only) and today's trust list, then verify
    python examples/offline_trust_list.py --base-url http://127.0.0.1:8000 PAYLOAD
    # offline: from files saved earlier
    python examples/offline_trust_list.py --jwks jwks.json --trust-list trust-list.json PAYLOAD

Prints one JSON object: {"valid": true, "issuer": {...}, "scene", "sub", "expires_at"} or
{"valid": false, "error": "CODE_..."}; exits 0 when valid, 1 when refused, 2 when the trust list
itself is unusable. Depends only on `cryptography` and this repository's `qr/` package (which a
scanner vendor may copy as it is). See docs/offline-verification.md.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))   # for `qr`, when run from anywhere

from qr.codes import CodeError
from qr.federation import verify_trust_list, verify_with_trust_list
from qr.tokens import TokenError


def _download(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def load_inputs(args) -> tuple[dict, str]:
    """(anchor JWKS, trust-list payload) from files or from the server."""
    if args.base_url:
        base = args.base_url.rstrip("/")
        anchor = json.loads(Path(args.jwks).read_text()) if args.jwks else _download(base + "/.well-known/jwks.json")
        return anchor, _download(base + "/.well-known/trust-list.json")["payload"]
    return json.loads(Path(args.jwks).read_text()), json.loads(Path(args.trust_list).read_text())["payload"]


def verify(payload: str, anchor: dict, trust_list_payload: str, now: int) -> tuple[int, dict]:
    try:
        trust_list = verify_trust_list(trust_list_payload, anchor, now=now)
    except TokenError as exc:
        return 2, {"valid": False, "error": f"TRUST_LIST_{exc.code}"}
    try:
        claims, platform = verify_with_trust_list(payload, trust_list, now=now)
    except CodeError as exc:
        return 1, {"valid": False, "error": exc.code}
    # A real gate also remembers the jti of each single-use (transport) code it accepted until
    # its exp, and applies its own venue's scene rules to claims["scn"].
    return 0, {"valid": True, "issuer": {"name": platform["name"], "region": platform["region"],
                                         "issuer": platform["issuer"]},
               "scene": claims["scn"], "sub": claims["sub"], "expires_at": claims["exp"]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("payload", help="the scanned code (compact JWS)")
    parser.add_argument("--base-url", help="download the trust list (and the JWKS unless --jwks) from here")
    parser.add_argument("--jwks", help="our pinned JWKS (the anchor), a file")
    parser.add_argument("--trust-list", help="a saved /.well-known/trust-list.json response, a file")
    parser.add_argument("--now", type=int, default=None, help="unix seconds (default: this machine's clock)")
    args = parser.parse_args(argv)
    if not args.base_url and not (args.jwks and args.trust_list):
        parser.error("give --base-url, or both --jwks and --trust-list")
    anchor, trust_list_payload = load_inputs(args)
    status, verdict = verify(args.payload, anchor, trust_list_payload,
                             int(time.time()) if args.now is None else args.now)
    print(json.dumps(verdict, ensure_ascii=False))
    return status


if __name__ == "__main__":
    sys.exit(main())
