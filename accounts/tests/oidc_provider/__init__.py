"""Start the real OpenID Connect provider (``server.js``, npm ``oidc-provider``) for
the SSO tests and drive its sign-in page like a browser would."""

import json
import shutil
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests

HERE = Path(__file__).resolve().parent
CLIENT_ID = "portal"
CLIENT_SECRET = "portal-test-secret"  # noqa: S105 (the test provider's)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TestProvider:
    """A running provider; ``accounts`` maps a login (the ``sub``) to its claims and is
    read again by the provider at every sign-in."""

    __test__ = False

    def __init__(self, workdir: Path, provider_ids: list[str]):
        if not (HERE / "node_modules" / "oidc-provider").is_dir():
            raise RuntimeError(
                f"Run `npm ci` in {HERE} first (make test and .ci/run do it)."
            )
        self.port = _free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.config_path = workdir / "oidc-provider.json"
        self.clients = [
            {
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "redirect_uris": [
                    f"http://testserver/accounts/oidc/{pid}/login/callback/"
                    for pid in provider_ids
                ],
            }
        ]
        self.accounts: dict[str, dict] = {}
        self._write()
        self.process = subprocess.Popen(  # noqa: S603
            [shutil.which("node") or "node", "server.js", str(self.port)]
            + [str(self.config_path)],
            cwd=HERE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                requests.get(self.discovery_url, timeout=1).raise_for_status()
                break
            except requests.RequestException:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    output = (
                        self.process.stdout.read().decode()
                        if self.process.poll() is not None
                        else ""
                    )
                    self.stop()
                    raise RuntimeError(f"oidc-provider did not start: {output}")
                time.sleep(0.1)

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def _write(self):
        self.config_path.write_text(
            json.dumps({"clients": self.clients, "accounts": self.accounts})
        )

    def set_account(self, login: str, **claims):
        self.accounts[login] = claims
        self._write()

    def app(self, provider_id="corp", name="Corp SSO", **settings) -> dict:
        """One entry of ``SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"]``."""
        return {
            "provider_id": provider_id,
            "name": name,
            "client_id": CLIENT_ID,
            "secret": CLIENT_SECRET,
            "settings": {
                "server_url": self.issuer,
                "scope": ["openid", "profile", "email", "groups"],
                **settings,
            },
        }

    def sign_in(self, authorize_url: str, login: str) -> str:
        """Follow the provider's pages from the authorization URL as ``login`` and
        return our callback URL (with ``code`` and ``state``) it redirects to."""
        browser = requests.Session()
        url = authorize_url
        for _ in range(10):
            response = browser.get(url, allow_redirects=False, timeout=10)
            if response.status_code == 200 and "/interaction/" in response.url:
                response = browser.post(
                    response.url,
                    data={"login": login},
                    allow_redirects=False,
                    timeout=10,
                )
            assert response.status_code in (302, 303), response.text[:500]
            url = urljoin(url, response.headers["Location"])
            if urlsplit(url).netloc == "testserver":
                return url
        raise AssertionError("the provider never redirected back")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
