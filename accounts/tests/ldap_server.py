"""A real OpenLDAP server (Debian's slapd) for tests: a slapd.conf, an MDB database
and a test directory tree in a temporary directory, listening on a free port.

The tree holds a service account (the portal's bind DN), staff and customers under
``ou=people`` and role groups (``groupOfNames``) under ``ou=groups``. Customers carry
their company in ``o``."""

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

SLAPD = shutil.which("slapd") or (
    "/usr/sbin/slapd" if os.path.exists("/usr/sbin/slapd") else None
)
SLAPADD = shutil.which("slapadd") or (
    "/usr/sbin/slapadd" if os.path.exists("/usr/sbin/slapadd") else None
)
SCHEMA = Path("/etc/ldap/schema")

BASE = "dc=example,dc=org"
ADMIN_DN, ADMIN_PASSWORD = f"cn=admin,{BASE}", "directory-admin-secret"
SERVICE_DN, SERVICE_PASSWORD = f"cn=portal,ou=services,{BASE}", "service-bind-secret"
PEOPLE = f"ou=people,{BASE}"
GROUPS = f"ou=groups,{BASE}"


def group_dn(name: str) -> str:
    return f"cn={name},{GROUPS}"


def person_dn(uid: str) -> str:
    return f"uid={uid},{PEOPLE}"


# uid -> (mail, password, given name, surname, organization or None)
PEOPLE_TREE = {
    "sam": ("sam.staff@corp.example", "sam-ldap-password", "Sam", "Staff", None),
    "vic": ("vic.viewer@corp.example", "vic-ldap-password", "Vic", "Viewer", None),
    "cora": ("cora@customer.example", "cora-ldap-password", "Cora", "Client", "acme"),
    "nora": ("nora@customer.example", "nora-ldap-password", "Nora", "Nobody", None),
}
# group cn -> member uids
GROUP_TREE = {
    "helpdesk-agents": ["sam"],
    "helpdesk-supervisors": [],
    "helpdesk-viewers": ["vic"],
    "everyone": ["sam", "vic", "cora", "nora"],
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ldif() -> str:
    entries = [
        f"dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\n"
        "dc: example\no: Example Corp\n",
        f"dn: ou=services,{BASE}\nobjectClass: organizationalUnit\nou: services\n",
        f"dn: {SERVICE_DN}\nobjectClass: person\nobjectClass: simpleSecurityObject\n"
        f"cn: portal\nsn: portal\nuserPassword: {SERVICE_PASSWORD}\n",
        f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people\n",
        f"dn: {GROUPS}\nobjectClass: organizationalUnit\nou: groups\n",
    ]
    for uid, (mail, password, given, surname, org) in PEOPLE_TREE.items():
        entry = (
            f"dn: {person_dn(uid)}\nobjectClass: inetOrgPerson\nuid: {uid}\n"
            f"cn: {given} {surname}\ngivenName: {given}\nsn: {surname}\n"
            f"mail: {mail}\nuserPassword: {password}\n"
        )
        if org:
            entry += f"o: {org}\n"
        entries.append(entry)
    for name, members in GROUP_TREE.items():
        # groupOfNames needs at least one member: the service account stands in
        member_lines = "".join(f"member: {person_dn(uid)}\n" for uid in members) or (
            f"member: {SERVICE_DN}\n"
        )
        entries.append(
            f"dn: {group_dn(name)}\nobjectClass: groupOfNames\ncn: {name}\n"
            + member_lines
        )
    return "\n".join(entries)


class Slapd:
    def __init__(self, root: Path):
        self.root = root
        self.port = _free_port()
        self.uri = f"ldap://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.config = root / "slapd.conf"
        data = root / "data"
        data.mkdir()
        schemas = "".join(
            f"include {SCHEMA / name}.schema\n"
            for name in ("core", "cosine", "inetorgperson", "nis")
        )
        self.config.write_text(
            f"""{schemas}
pidfile {root}/slapd.pid
argsfile {root}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
maxsize 10485760
suffix "{BASE}"
rootdn "{ADMIN_DN}"
rootpw {ADMIN_PASSWORD}
directory {data}
access to attrs=userPassword
  by anonymous auth
  by * none
access to *
  by users read
  by * none
"""
        )
        (root / "tree.ldif").write_text(_ldif())
        subprocess.run(
            [SLAPADD, "-f", str(self.config), "-l", str(root / "tree.ldif")],
            check=True,
            capture_output=True,
        )

    def start(self):
        log = open(self.root / "slapd.log", "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [SLAPD, "-f", str(self.config), "-h", self.uri + "/", "-d", "0"],
            stdout=log,
            stderr=log,
        )
        self._log = log
        self.wait_until_answering()

    def wait_until_answering(self, timeout: float = 15):
        import ldap

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                self.connect().unbind_s()
                return
            except ldap.LDAPError:
                time.sleep(0.1)
        raise RuntimeError((self.root / "slapd.log").read_text())

    def connect(self, dn: str = ADMIN_DN, password: str = ADMIN_PASSWORD):
        import ldap

        connection = ldap.initialize(self.uri)
        connection.set_option(ldap.OPT_NETWORK_TIMEOUT, 2)
        connection.simple_bind_s(dn, password)
        return connection

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if getattr(self, "_log", None):
            self._log.close()
            self._log = None

    # --- changes made by the directory's administrator during a test -------------

    def set_group_members(self, name: str, uids: list[str]):
        import ldap

        members = [person_dn(uid).encode() for uid in uids] or [SERVICE_DN.encode()]
        connection = self.connect()
        try:
            connection.modify_s(group_dn(name), [(ldap.MOD_REPLACE, "member", members)])
        finally:
            connection.unbind_s()
