"""Verifies a Portcullis access token the way an independent service would, with PyJWT:
`python scripts/verify_jwt.py DISCOVERY_URL TOKEN AUDIENCE [CLOCK_OFFSET]`.

CLOCK_OFFSET (seconds) is how far the issuer's clock is from this machine's: the tests move the
server's clock forward, and PyJWT reads the real one, so the offset becomes PyJWT's leeway.

It finds the JWKS through the OpenID discovery document only, checks what an API Gateway HTTP
API JWT authorizer checks (RS256, a `kid` in the JWKS, `iss` equal to the discovery issuer, `aud`
holding the audience, `exp`, `nbf`, `iat`), and prints the header and claims as JSON. Exits 1,
saying why, when the token does not verify.
"""

import json
import sys
import urllib.request

import jwt


def main() -> int:
    discovery_url, token, audience = sys.argv[1:4]
    leeway = abs(int(sys.argv[4])) if len(sys.argv) > 4 else 0
    with urllib.request.urlopen(discovery_url) as response:
        discovery = json.load(response)
    try:
        key = jwt.PyJWKClient(discovery["jwks_uri"], cache_keys=False).get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            audience=audience,
            issuer=discovery["issuer"],
            leeway=leeway,
            options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub"]},
        )
    except jwt.PyJWTError as error:
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print(json.dumps({"header": jwt.get_unverified_header(token), "claims": claims}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
