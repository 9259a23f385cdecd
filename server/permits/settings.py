"""The permit's rules from Decision 06/2020/QĐ-TTg and Decision 729/QĐ-BNG: this feature's
section of the configuration (``server.config.Section``); ``permit_rules(config)`` gives them.
(The statutory deadline, holidays, zone, attachment limit and authority are older settings of
``server.config``.)

| setting (variable: ``CONCORD_`` and the name in capitals) | default |
|---|---|
| ``permit_lead_days_prime_minister``: calendar days before the start, when the Prime
  Minister decides | 40 |
| ``permit_lead_days_competent_person``: the same, when another competent person decides | 30 |
| ``permit_consulted_agencies``: whose opinion is asked, ``;``-separated (TOML: a list) |
  foreign affairs; public security |
| ``permit_consultation_working_days``: working days an agency has to answer | 7 |

The lead times are the decision's; the days an agency has to answer are not fixed here by law
for every case, so 7 is a default to set to the authority's own practice.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.config import Config, Reader, Section

SETTINGS = {
    "permit_lead_days_prime_minister": "CONCORD_PERMIT_LEAD_DAYS_PRIME_MINISTER",
    "permit_lead_days_competent_person": "CONCORD_PERMIT_LEAD_DAYS_COMPETENT_PERSON",
    "permit_consulted_agencies": "CONCORD_PERMIT_CONSULTED_AGENCIES",
    "permit_consultation_working_days": "CONCORD_PERMIT_CONSULTATION_WORKING_DAYS",
}
AGENCIES = (
    "Ministry of Foreign Affairs / provincial Department of Foreign Affairs",
    "Ministry of Public Security / provincial Police",
)


@dataclass(frozen=True)
class PermitRules:
    lead_days_prime_minister: int = 40
    lead_days_competent_person: int = 30
    consulted_agencies: tuple[str, ...] = AGENCIES
    consultation_working_days: int = 7


def _agencies(reader: Reader) -> tuple[str, ...]:
    if "permit_consulted_agencies" not in reader.raw:
        return AGENCIES
    value, where = reader.raw["permit_consulted_agencies"]
    entries = value.split(";") if isinstance(value, str) else value
    if not isinstance(entries, list | tuple) or not all(isinstance(e, str) for e in entries):
        reader.problems.append(f"{where} must be agencies' names separated by ';'")
        return AGENCIES
    names = tuple(dict.fromkeys(name.strip() for name in entries if name.strip()))
    if any(len(name) > 300 for name in names):
        reader.problems.append(f"{where}: an agency's name is at most 300 characters")
        return AGENCIES
    return names


def read(reader: Reader) -> PermitRules:
    return PermitRules(
        lead_days_prime_minister=reader.integer("permit_lead_days_prime_minister", 40, 0, 365),
        lead_days_competent_person=reader.integer("permit_lead_days_competent_person", 30, 0, 365),
        consulted_agencies=_agencies(reader),
        consultation_working_days=reader.integer("permit_consultation_working_days", 7, 1, 90),
    )


SECTION = Section("permit", SETTINGS, read, PermitRules())


def permit_rules(config: Config) -> PermitRules:
    return config.section(SECTION)
