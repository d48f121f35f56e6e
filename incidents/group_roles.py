"""The single sign-on groups mapping: which identity-provider group grants which Debrief role.

Written in one environment variable, OIDC_GROUP_ROLES, as `group=role` pairs separated by `;`:

    sre-admins=admin; support=viewer; payments=team:Payments; payments-leads=manager:Payments

Roles: `admin` (organisation admin), `viewer` (read-only viewer), `team:<team>` (member of the
team) and `manager:<team>` (manager of the team), a team named by its name or slug. A group
may appear in several pairs and several groups may grant the same role. The role is after the
last `=`, so group names that contain `=` (LDAP DNs such as `cn=sre,ou=groups`) still work.

Parsed when settings load (no models imported here), so a typo stops start-up with a clear
error instead of silently granting nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

ADMIN = "admin"
VIEWER = "viewer"
MEMBER = "team"
MANAGER = "manager"
FLAGS = {ADMIN, VIEWER}
TEAM_ROLES = {MEMBER, MANAGER}


@dataclass(frozen=True)
class GroupRule:
    group: str
    role: str  # one of ADMIN, VIEWER, MEMBER, MANAGER
    team: str = ""  # name or slug, for MEMBER and MANAGER

    @property
    def target(self) -> tuple[str, str]:
        """What the rule governs: (role, team); the same target may be granted by many groups."""
        return (self.role, self.team)


def parse_group_roles(text: str) -> tuple[GroupRule, ...]:
    """Read `group=role; ...`; raise ValueError naming the first pair that cannot be read."""
    rules = []
    for raw in text.split(";"):
        pair = raw.strip()
        if not pair:
            continue
        group, sep, role = pair.rpartition("=")
        group, role = group.strip(), role.strip()
        if not sep or not group or not role:
            raise ValueError(f"{pair!r} is not group=role")
        kind, colon, team = role.partition(":")
        kind, team = kind.strip().lower(), team.strip()
        if kind in FLAGS and not colon:
            rules.append(GroupRule(group=group, role=kind))
        elif kind in TEAM_ROLES and team:
            rules.append(GroupRule(group=group, role=kind, team=team))
        else:
            raise ValueError(
                f"{pair!r}: the role must be admin, viewer, team:<team> or manager:<team>"
            )
    return tuple(rules)
