"""The fake Salesforce's OAuth side (tests/fakes/salesforce.py): the token endpoint's three grants
(refresh token, client credentials, JWT bearer) and the revoke endpoint, as Salesforce's OAuth docs
describe them (form-encoded; `POST /services/oauth2/revoke` with `token`: 200, or 400 `invalid_token`).
"""

import base64
import hashlib
import hmac
import secrets
import time

import jwt

LOGIN_HOSTS = ("https://login.salesforce.com", "https://test.salesforce.com")
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ORG_ID = "00D5g000004FakeEAI"
USER_ID = "0055g00000FakeUAAQ"


class OAuthMixin:
    def _token(self, request):
        if request.method != "POST":
            return 400, {"error": "invalid_request", "error_description": "must use HTTP POST"}
        content_type = request.headers.get("Content-Type", "")
        form = request.form() if "application/x-www-form-urlencoded" in content_type else {}
        grant = form.get("grant_type")
        if grant == "refresh_token":
            if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
                return 400, {"error": "invalid_client", "error_description": "invalid client credentials"}
            if form.get("refresh_token") != self.refresh_token or self._refresh_tokens_revoked:
                return 400, {"error": "invalid_grant", "error_description": "expired access/refresh token"}
        elif grant == "client_credentials":
            if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
                return 400, {"error": "invalid_client", "error_description": "invalid client credentials"}
        elif grant == JWT_GRANT:
            problem = self._jwt_problem(form.get("assertion"))
            if problem:
                return 400, {"error": "invalid_grant", "error_description": problem}
        else:
            return 400, {"error": "unsupported_grant_type", "error_description": "grant type not supported"}
        token = f"{ORG_ID[:15]}!AQ" + secrets.token_urlsafe(48)
        self._live_tokens.add(token)
        if grant == "refresh_token":
            self._tokens_of_refresh.add(token)
        self.token_grants.append(grant)
        issued_at = str(int(time.time() * 1000))
        identity = f"{self.url}/id/{ORG_ID}/{USER_ID}"
        signature = base64.b64encode(
            hmac.new(self.client_secret.encode(), (identity + issued_at).encode(), hashlib.sha256).digest()
        ).decode()
        return 200, {
            "access_token": token,
            "instance_url": self.url if self.instance_url is None else self.instance_url,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
            "signature": signature,
            "scope": "api refresh_token",
        }

    def _revoke(self, request):
        """POST /services/oauth2/revoke, form `token`: a refresh token is revoked with every access
        token issued from it; an access token alone. 200 on success, 400 invalid_token otherwise."""
        form = request.form() if "x-www-form-urlencoded" in request.headers.get("Content-Type", "") else {}
        token = form.get("token") if request.method == "POST" else None
        if token == self.refresh_token and not self._refresh_tokens_revoked:
            self._refresh_tokens_revoked = True
            self._live_tokens -= self._tokens_of_refresh
        elif token in self._live_tokens:
            self._live_tokens.discard(token)
        else:
            return 400, {"error": "invalid_token", "error_description": "invalid token"}
        self.revoked.append(token)
        return 200, b""

    def _jwt_problem(self, assertion) -> str | None:
        if self.jwt_public_key_pem is None:
            return "JWT bearer flow is not configured for this connected app (no certificate)"
        if not assertion:
            return "invalid assertion: missing"
        try:
            claims = jwt.decode(
                assertion,
                self.jwt_public_key_pem,
                algorithms=["RS256"],
                audience=[self.url, *LOGIN_HOSTS],
                issuer=self.client_id,
                options={"require": ["iss", "sub", "aud", "exp"]},
            )
        except jwt.ExpiredSignatureError:
            return "expired authorization code (exp is in the past)"
        except jwt.InvalidAudienceError:
            return "audience is invalid"
        except jwt.InvalidIssuerError:
            return "invalid client id (iss)"
        except jwt.PyJWTError as exc:
            return f"invalid assertion: {exc}"
        if claims.get("sub") != self.username:
            return "user hasn't approved this consumer (unknown sub)"
        if claims["exp"] > time.time() + self.jwt_max_lifetime + 10:
            return f"invalid assertion: exp must be within {self.jwt_max_lifetime} seconds"
        return None
