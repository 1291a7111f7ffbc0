"""Local accounts of an emulated host: who may log on, and who is an Administrator."""
from __future__ import annotations

import dataclasses
import hmac
import typing as t

from .paths import fold


@dataclasses.dataclass(frozen=True)
class Account:
    name: str
    password: str = dataclasses.field(repr=False)
    admin: bool = False

    @property
    def groups(self) -> t.Tuple[str, ...]:
        return ('Administrators', 'Users') if self.admin else ('Users',)


class Accounts:
    """The host's local accounts. Names compare case-insensitively, passwords exactly."""

    def __init__(self, host_name: str, accounts: t.Iterable[Account]) -> None:
        self.host_name = host_name
        self._by_name: t.Dict[str, Account] = {}
        for account in accounts:
            self._by_name[fold(account.name)] = account

    def split(self, username: str) -> t.Tuple[t.Optional[str], str]:
        r"""``HOST\user``, ``.\user``, ``user@HOST``, ``user`` -> (domain or None, user)."""
        if '\\' in username:
            domain, _sep, user = username.partition('\\')
            return domain, user
        if '@' in username:
            user, _sep, domain = username.partition('@')
            return domain, user
        return None, username

    def get(self, username: str) -> t.Optional[Account]:
        """The local account ``username`` names (in any of the forms :meth:`split` accepts)."""
        domain, user = self.split(username)
        if domain is not None and fold(domain) not in ('', '.', fold(self.host_name), 'LOCALHOST'):
            return None
        return self._by_name.get(fold(user))

    def authenticate(self, username: str, password: str) -> t.Optional[Account]:
        account = self.get(username)
        if account is None:
            return None
        if not hmac.compare_digest(account.password.encode('utf-8'), (password or '').encode('utf-8')):
            return None
        return account

    def is_admin(self, username: str) -> bool:
        account = self.get(username)
        return bool(account and account.admin)

    def __iter__(self) -> t.Iterator[Account]:
        return iter(self._by_name.values())
