"""Our rows as OCPI 2.2.1 objects of the CPO role: sites → Locations, sessions, CDRs.

Where our data says nothing the OCPI object requires, the defaults below apply (listed in
docs/roaming.md, "What is published"):

- A site is published when its roaming switch is on and it has coordinates (OCPI requires
  them); its country is the site's (else our party's), converted to ISO 3166 alpha-3, and its
  time zone is the organization's.
- An EVSE is a `stations.Evse` row (uid: its primary key) or, for a connector on no EVSE row,
  that connector alone (uid "C" + the connector's key). Its evse_id is the row's eMI3 id, else
  "<our country>*<our party>*E<uid>". Connectors of type OTHER are not published (OCPI names
  no such plug); an EVSE left with no connector is not published either.
- Connector format, power type, voltage and current follow the plug (TYPE2 socket: 3-phase
  230 V; cable plugs and DC: CABLE); the rated power is the connector's, else the plug's
  usual maximum, and the current is derived from power and voltage.
"""

from collections.abc import Iterable
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from itertools import pairwise

from django.db.models import Case, Value, When
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from billing.models import ChargeDetailRecord, Tariff
from billing.services import preview_price
from roaming.choices import TokenType, WhitelistType
from roaming.models import RoamingPartner, RoamingProfile, RoamingToken
from roaming.ocpi.status import CLIENT_ERROR, OcpiError, ocpi_timestamp
from roaming.ocpi.v221.tariffs import tariff_to_ocpi
from sessions_app.choices import AuthorizationStatus, SessionState
from sessions_app.models import ChargingSession
from sessions_app.services import energy_readings
from stations.choices import ConnectorStatus, ConnectorType
from stations.models import ChargingStation, Connector, Site

# ISO 3166-1 alpha-2 → alpha-3 (OCPI Location.country is alpha-3), plus Kosovo's XK → XKX.
_COUNTRY_PAIRS = (
    "ADAND AEARE AFAFG AGATG AIAIA ALALB AMARM AOAGO AQATA ARARG ASASM ATAUT AUAUS AWABW AXALA "
    "AZAZE BABIH BBBRB BDBGD BEBEL BFBFA BGBGR BHBHR BIBDI BJBEN BLBLM BMBMU BNBRN BOBOL BQBES "
    "BRBRA BSBHS BTBTN BVBVT BWBWA BYBLR BZBLZ CACAN CCCCK CDCOD CFCAF CGCOG CHCHE CICIV CKCOK "
    "CLCHL CMCMR CNCHN COCOL CRCRI CUCUB CVCPV CWCUW CXCXR CYCYP CZCZE DEDEU DJDJI DKDNK DMDMA "
    "DODOM DZDZA ECECU EEEST EGEGY EHESH ERERI ESESP ETETH FIFIN FJFJI FKFLK FMFSM FOFRO FRFRA "
    "GAGAB GBGBR GDGRD GEGEO GFGUF GGGGY GHGHA GIGIB GLGRL GMGMB GNGIN GPGLP GQGNQ GRGRC GSSGS "
    "GTGTM GUGUM GWGNB GYGUY HKHKG HMHMD HNHND HRHRV HTHTI HUHUN IDIDN IEIRL ILISR IMIMN ININD "
    "IOIOT IQIRQ IRIRN ISISL ITITA JEJEY JMJAM JOJOR JPJPN KEKEN KGKGZ KHKHM KIKIR KMCOM KNKNA "
    "KPPRK KRKOR KWKWT KYCYM KZKAZ LALAO LBLBN LCLCA LILIE LKLKA LRLBR LSLSO LTLTU LULUX LVLVA "
    "LYLBY MAMAR MCMCO MDMDA MEMNE MFMAF MGMDG MHMHL MKMKD MLMLI MMMMR MNMNG MOMAC MPMNP MQMTQ "
    "MRMRT MSMSR MTMLT MUMUS MVMDV MWMWI MXMEX MYMYS MZMOZ NANAM NCNCL NENER NFNFK NGNGA NINIC "
    "NLNLD NONOR NPNPL NRNRU NUNIU NZNZL OMOMN PAPAN PEPER PFPYF PGPNG PHPHL PKPAK PLPOL PMSPM "
    "PNPCN PRPRI PSPSE PTPRT PWPLW PYPRY QAQAT REREU ROROU RSSRB RURUS RWRWA SASAU SBSLB SCSYC "
    "SDSDN SESWE SGSGP SHSHN SISVN SJSJM SKSVK SLSLE SMSMR SNSEN SOSOM SRSUR SSSSD STSTP SVSLV "
    "SXSXM SYSYR SZSWZ TCTCA TDTCD TFATF TGTGO THTHA TJTJK TKTKL TLTLS TMTKM TNTUN TOTON TRTUR "
    "TTTTO TVTUV TWTWN TZTZA UAUKR UGUGA UMUMI USUSA UYURY UZUZB VAVAT VCVCT VEVEN VGVGB VIVIR "
    "VNVNM VUVUT WFWLF WSWSM XKXKX YEYEM YTMYT ZAZAF ZMZMB ZWZWE"
)
ALPHA3 = {pair[:2]: pair[2:] for pair in _COUNTRY_PAIRS.split()}

# A connector's status → the OCPI EVSE status it stands for while its station is online.
CONNECTOR_STATUS = {
    ConnectorStatus.AVAILABLE: "AVAILABLE",
    # A vehicle is plugged in, charging or not: the EVSE is in use.
    ConnectorStatus.PREPARING: "CHARGING",
    ConnectorStatus.CHARGING: "CHARGING",
    ConnectorStatus.SUSPENDED_EVSE: "CHARGING",
    ConnectorStatus.SUSPENDED_EV: "CHARGING",
    ConnectorStatus.FINISHING: "CHARGING",
    ConnectorStatus.OCCUPIED: "CHARGING",
    ConnectorStatus.RESERVED: "RESERVED",
    ConnectorStatus.UNAVAILABLE: "INOPERATIVE",
    ConnectorStatus.FAULTED: "OUTOFORDER",
    ConnectorStatus.UNKNOWN: "UNKNOWN",
}
# The station itself (OCPP 1.6 connector 0) unavailable or faulted takes every EVSE with it.
STATION_STATUS = {
    ConnectorStatus.UNAVAILABLE: "INOPERATIVE",
    ConnectorStatus.FAULTED: "OUTOFORDER",
}
# An EVSE with several connectors is as busy as its busiest one.
EVSE_STATUS_ORDER = ("CHARGING", "RESERVED", "AVAILABLE", "INOPERATIVE", "OUTOFORDER", "UNKNOWN")
REMOVED = "REMOVED"
# "Look the partner's token up": list endpoints pass the token they fetched for the page.
LOOKUP = object()
# Every OCPP station we run can be started, stopped, reserved and unlocked remotely (the
# commands module carries those out); an RFID reader is assumed, as on any public station.
CAPABILITIES = ["RFID_READER", "REMOTE_START_STOP_CAPABLE", "RESERVABLE", "UNLOCK_CAPABLE"]


# (OCPI standard, format, power type, voltage per phase, usual maximum in W) of each plug we
# know; a Type 2 plug on a cable is OCPI's IEC_62196_T2 with format CABLE.
PLUGS = {
    ConnectorType.TYPE2: ("IEC_62196_T2", "SOCKET", "AC_3_PHASE", 230, 22_000),
    ConnectorType.TYPE2_CABLE: ("IEC_62196_T2", "CABLE", "AC_3_PHASE", 230, 22_000),
    ConnectorType.TYPE1: ("IEC_62196_T1", "CABLE", "AC_1_PHASE", 230, 7_360),
    ConnectorType.SCHUKO: ("DOMESTIC_F", "SOCKET", "AC_1_PHASE", 230, 3_680),
    ConnectorType.CCS2: ("IEC_62196_T2_COMBO", "CABLE", "DC", 920, 50_000),
    ConnectorType.CCS1: ("IEC_62196_T1_COMBO", "CABLE", "DC", 920, 50_000),
    ConnectorType.CHADEMO: ("CHADEMO", "CABLE", "DC", 500, 50_000),
}
PHASES = {"AC_3_PHASE": 3, "AC_1_PHASE": 1, "DC": 1}


# --- plain values --------------------------------------------------------------------------


def number(value):
    """A JSON number for OCPI: Decimals and Fractions as floats (JSON has no Decimal)."""
    if isinstance(value, Decimal | Fraction):
        return float(value)
    return value


def jsonable(data):
    """`data` with every Decimal made a JSON number, so no encoder writes it as a string."""
    if isinstance(data, dict):
        return {key: jsonable(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [jsonable(value) for value in data]
    return number(data)


def alpha3(country: str) -> str:
    """The ISO 3166 alpha-3 code of an alpha-2 one ("" when unknown)."""
    return ALPHA3.get((country or "").strip().upper(), "")


def hours(seconds) -> float:
    """Seconds as hours, to the second's precision."""
    return round(float(seconds) / 3600, 6)


def kwh(wh) -> float:
    """Wh as kWh, to the Wh."""
    return round(float(wh) / 1000, 3)


def latest(*moments: datetime | None) -> datetime:
    """The latest of the moments given (None ignored)."""
    return max(moment for moment in moments if moment is not None)


def cpo_party(profile: RoamingProfile | None) -> tuple[str, str]:
    """Our (country code, party id) as a CPO; refused when we play no CPO role."""
    if profile is None or not profile.cpo_enabled:
        raise OcpiError(CLIENT_ERROR, "This party publishes no CPO modules.", http_status=404)
    return profile.country_code, profile.party_id


# --- locations -----------------------------------------------------------------------------


def is_published(site: Site) -> bool:
    """Whether partners see the site: roaming switched on, coordinates known."""
    return bool(site.roaming_enabled and site.latitude is not None and site.longitude is not None)


def uid_of(connector_pk: int, evse_pk: int | None) -> str:
    """The OCPI EVSE uid of a connector: its Evse row's key, else "C" + its own."""
    return str(evse_pk) if evse_pk else f"C{connector_pk}"


def evse_uid(connector: Connector) -> str:
    """The OCPI EVSE uid of a connector's EVSE: the Evse row, else the connector alone."""
    return uid_of(connector.pk, connector.evse_id)


def connector_ocpi_id(connector: Connector) -> str:
    """The connector's id within its OCPI EVSE."""
    return str(connector.evse_connector_id) if connector.evse_id else "1"


def evse_identity(connector: Connector, country_code: str, party_id: str) -> str:
    """The eMI3 EVSE id: the Evse row's own, else one made from our party and the uid."""
    if connector.evse_id and connector.evse.evse_id:
        return connector.evse.evse_id
    return f"{country_code}*{party_id}*E{evse_uid(connector)}"


def is_published_connector(connector: Connector) -> bool:
    """Whether OCPI can name the connector's plug."""
    return connector.connector_type in PLUGS


def connector_status(station: ChargingStation, connectors: Iterable[Connector]) -> str:
    """The OCPI status of an EVSE made of these connectors of an (online or not) station."""
    if not station.is_online:
        return "UNKNOWN"
    found = {CONNECTOR_STATUS.get(connector.status, "UNKNOWN") for connector in connectors}
    status = next((s for s in EVSE_STATUS_ORDER if s in found), "UNKNOWN")
    if status != "CHARGING" and station.status in STATION_STATUS:
        return STATION_STATUS[station.status]
    return status


def connector_to_ocpi(connector: Connector, moment: datetime, tariff_ids: list[str]) -> dict:
    """An OCPI Connector: the plug, its ratings (defaults where unknown), the partner's tariff."""
    standard, format_, power_type, voltage, usual_w = PLUGS[connector.connector_type]
    power_w = int(connector.max_power_kw * 1000) if connector.max_power_kw else usual_w
    amperage = max(1, round(power_w / (PHASES[power_type] * voltage)))
    published = {
        "id": connector_ocpi_id(connector),
        "standard": standard,
        "format": format_,
        "power_type": power_type,
        "max_voltage": voltage,
        "max_amperage": amperage,
        "max_electric_power": power_w,
        "last_updated": ocpi_timestamp(moment),
    }
    if tariff_ids:
        published["tariff_ids"] = tariff_ids
    return published


def evse_groups(station: ChargingStation, connectors: Iterable[Connector]) -> dict:
    """A station's published connectors grouped by OCPI EVSE uid, in connector order."""
    groups: dict[str, list[Connector]] = {}
    for connector in connectors:
        if is_published_connector(connector):
            groups.setdefault(evse_uid(connector), []).append(connector)
    return groups


def evse_last_updated(station: ChargingStation, connectors: list[Connector]) -> datetime:
    """When an EVSE last changed: its station's row or one of its connectors' status."""
    return latest(station.updated, *(connector.status_at for connector in connectors))


def evse_to_ocpi(
    station: ChargingStation, connectors: list[Connector], party: tuple[str, str], tariff_ids
) -> dict:
    """An OCPI EVSE of one station's connectors (all on the same EVSE)."""
    first = connectors[0]
    moment = evse_last_updated(station, connectors)
    return {
        "uid": evse_uid(first),
        "evse_id": evse_identity(first, *party),
        "status": connector_status(station, connectors),
        "capabilities": list(CAPABILITIES),
        "connectors": [connector_to_ocpi(c, moment, tariff_ids) for c in connectors],
        "last_updated": ocpi_timestamp(moment),
    }


def tariff_ids_for(partner: RoamingPartner | None) -> list[str]:
    """The tariff ids a partner's connectors carry: the one published to it, if any."""
    return [str(partner.tariff_id)] if partner is not None and partner.tariff_id else []


def site_stations(site: Site) -> list[ChargingStation]:
    """The site's stations that belong to its organization (prefetched when listed)."""
    return [s for s in site.stations.all() if s.organization_id == site.organization_id]


def site_evses(site: Site, party: tuple[str, str], partner) -> list[dict]:
    """Every published EVSE of a site."""
    tariff_ids = tariff_ids_for(partner)
    return [
        evse_to_ocpi(station, connectors, party, tariff_ids)
        for station in site_stations(site)
        for connectors in evse_groups(station, station.connectors.all()).values()
    ]


def location_to_ocpi(site: Site, profile: RoamingProfile, partner=None) -> dict:
    """The OCPI Location of a published site, as seen by one partner (its tariff ids)."""
    party = (profile.country_code, profile.party_id)
    evses = site_evses(site, party, partner)
    moment = latest(site.updated, *(parse_datetime(evse["last_updated"]) for evse in evses))
    operator = {"name": profile.name or site.organization.name}
    if profile.website:
        operator["website"] = profile.website
    location = {
        "country_code": profile.country_code,
        "party_id": profile.party_id,
        "id": str(site.pk),
        "publish": True,
        "name": site.name,
        "address": site.street,
        "city": site.city[:45],
        "country": alpha3(site.country) or alpha3(profile.country_code),
        "coordinates": {
            "latitude": f"{site.latitude:.6f}",
            "longitude": f"{site.longitude:.6f}",
        },
        "evses": evses,
        "operator": operator,
        "time_zone": site.organization.timezone,
        "last_updated": ocpi_timestamp(moment),
    }
    if site.postal_code:
        location["postal_code"] = site.postal_code[:10]
    return location


def evse_status_patch(status: str, moment: datetime) -> dict:
    """The body of an EVSE status PATCH."""
    return {"status": status, "last_updated": ocpi_timestamp(moment)}


# --- sessions and CDRs: token, authorization, periods ---------------------------------------


# Several tokens of a partner may share a uid (of different types): as the authorization
# chain does, an RFID wins, then the newest.
TOKEN_PREFERENCE = (
    Case(When(type=TokenType.RFID, then=Value(0)), default=Value(1)),
    "-last_updated",
    "pk",
)


def tokens_by_uid(partner: RoamingPartner, uids) -> dict[str, RoamingToken]:
    """The partner's published tokens with these uids (as sent or upper-cased), one query."""
    wanted = {uid for uid in uids if uid} | {uid.upper() for uid in uids if uid}
    found: dict[str, RoamingToken] = {}
    if not wanted:
        return found
    for token in RoamingToken.objects.filter(partner=partner, uid__in=wanted).order_by(
        *TOKEN_PREFERENCE
    ):
        found.setdefault(token.uid, token)
    return found


def token_of(tokens: dict[str, RoamingToken], id_tag: str) -> RoamingToken | None:
    """The token a session's id tag names, from `tokens_by_uid`."""
    return tokens.get(id_tag) or tokens.get(id_tag.upper())


def roaming_token(session: ChargingSession, partner: RoamingPartner) -> RoamingToken | None:
    """The partner's token the session was started with, if the partner published it."""
    return token_of(tokens_by_uid(partner, [session.id_tag]), session.id_tag)


def _remote_start(session: ChargingSession):
    return getattr(session, "remote_start", None) if hasattr(session, "remote_start") else None


def token_uid(session: ChargingSession) -> str:
    """The uid the session was authorized with (a command's token when it carried none)."""
    remote = _remote_start(session)
    return session.id_tag or (remote.id_tag if remote is not None else "")


def cdr_token(session: ChargingSession, partner: RoamingPartner, token: RoamingToken | None):
    """The OCPI CdrToken: the partner's published token, else an RFID uid of the partner."""
    uid = token_uid(session)
    if token is None:
        return {
            "country_code": partner.country_code,
            "party_id": partner.party_id,
            "uid": uid,
            "type": "RFID",
            "contract_id": uid,
        }
    return {
        "country_code": token.country_code,
        "party_id": token.party_id,
        "uid": token.uid,
        "type": token.type,
        "contract_id": token.contract_id,
    }


def auth_method(session: ChargingSession, token: RoamingToken | None) -> str:
    """COMMAND for the partner's START_SESSION, WHITELIST for an ALWAYS token, else real time."""
    # roaming.authorization asks the eMSP in real time for every whitelist but ALWAYS (its
    # answer, or the published token when no answer comes, decides).
    remote = _remote_start(session)
    if remote is not None and remote.roaming_partner_id is not None:
        return "COMMAND"
    if token is not None and token.whitelist == WhitelistType.ALWAYS:
        return "WHITELIST"
    return "AUTH_REQUEST"


def session_status(session: ChargingSession) -> str:
    """ACTIVE while running, COMPLETED when ended, INVALID when refused or failed."""
    if session.auth_status != AuthorizationStatus.ACCEPTED or session.state == SessionState.FAILED:
        return "INVALID"
    return "ACTIVE" if session.state == SessionState.ACTIVE else "COMPLETED"


def _period(start: str, charging: bool, energy_wh, seconds, tariff_id: str) -> dict:
    if charging:
        dimensions = [
            {"type": "ENERGY", "volume": kwh(energy_wh)},
            {"type": "TIME", "volume": hours(seconds)},
        ]
    else:
        dimensions = [{"type": "PARKING_TIME", "volume": hours(seconds)}]
    period = {"start_date_time": start, "dimensions": dimensions}
    if tariff_id:
        period["tariff_id"] = tariff_id
    return period


def priced_periods(periods: list[dict], tariff_id: str) -> list[dict]:
    """OCPI ChargingPeriods of the periods billing stored (charging or parked stretches)."""
    published = []
    for stored in periods:
        start, end = parse_datetime(stored["start"]), parse_datetime(stored["end"])
        published.append(
            _period(
                ocpi_timestamp(start),
                bool(stored.get("charging")),
                Decimal(str(stored.get("energy_wh", 0))),
                (end - start).total_seconds(),
                tariff_id,
            )
        )
    return published


def metered_periods(session: ChargingSession, tariff_id: str, until: datetime) -> list[dict]:
    """ChargingPeriods from the meter: charging while the register rose, else parked."""
    end = session.stop or until
    points = [(session.start, session.meter_start)]
    for moment, register in sorted(energy_readings(session)):
        if session.start < moment <= end and register >= points[-1][1]:
            points.append((moment, register))
    final = session.stop is not None and session.meter_stop is not None
    if final and session.meter_stop >= points[-1][1] and session.stop > points[-1][0]:
        points.append((session.stop, session.meter_stop))
    stretches: list[list] = []  # [start, charging, energy Wh, seconds]
    for (since, before), (moment, after) in pairwise(points):
        charging = after > before
        seconds = (moment - since).total_seconds()
        if stretches and stretches[-1][1] == charging:
            stretches[-1][2] += after - before
            stretches[-1][3] += seconds
        else:
            stretches.append([since, charging, after - before, seconds])
    return [
        _period(ocpi_timestamp(since), charging, energy, seconds, tariff_id)
        for since, charging, energy, seconds in stretches
    ]


def price(excl_vat, incl_vat=None) -> dict:
    """An OCPI Price (incl. VAT when known)."""
    published = {"excl_vat": number(excl_vat)}
    if incl_vat is not None:
        published["incl_vat"] = number(incl_vat)
    return published


def charge_record(session: ChargingSession) -> ChargeDetailRecord | None:
    """The session's charge CDR, when rated (prefetched as `charge_records` in lists)."""
    records = getattr(session, "charge_records", None)
    if records is not None:
        return records[0] if records else None
    return ChargeDetailRecord.objects.filter(session=session, kind="charge").first()


def _running_cost(session: ChargingSession, tariff: Tariff | None) -> dict | None:
    """What a session not rated yet costs so far, as billing would price it; None if unknown."""
    incl = preview_price(session)
    if incl is None:
        return None
    rate = Decimal(tariff.tax_rate) if tariff is not None else Decimal(0)
    # billing previews the total incl. VAT only; excl. VAT is derived at the tariff's rate.
    excl = (incl * 100 / (100 + rate)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return price(excl, incl)


def session_to_ocpi(
    session: ChargingSession, profile: RoamingProfile, partner: RoamingPartner, token=LOOKUP
) -> dict:
    """The OCPI Session of one of our sessions for the partner whose driver charges."""
    if token is LOOKUP:
        token = roaming_token(session, partner)
    tariff = partner.tariff if partner.tariff_id else None
    tariff_id = str(tariff.pk) if tariff is not None else ""
    record = charge_record(session)
    connector = session.connector
    published = {
        "country_code": profile.country_code,
        "party_id": profile.party_id,
        "id": str(session.pk),
        "start_date_time": ocpi_timestamp(session.start),
        "kwh": kwh(session.energy_wh),
        "cdr_token": cdr_token(session, partner, token),
        "auth_method": auth_method(session, token),
        "location_id": str(session.station.site_id or ""),
        "evse_uid": evse_uid(connector),
        "connector_id": connector_ocpi_id(connector),
        "currency": record.currency if record else (tariff or session.organization).currency,
        "status": session_status(session),
        "last_updated": ocpi_timestamp(latest(session.updated, record.created if record else None)),
    }
    if session.stop is not None:
        published["end_date_time"] = ocpi_timestamp(session.stop)
    if session.authorization_reference:
        published["authorization_reference"] = session.authorization_reference
    if record is not None:
        periods = priced_periods(record.periods, str(record.tariff_id or ""))
        cost = price(record.total_excl_tax, record.total_incl_tax)
    else:
        periods = metered_periods(session, tariff_id, timezone.now())
        cost = _running_cost(session, tariff)
    if periods:
        published["charging_periods"] = periods
    if cost is not None:
        published["total_cost"] = cost
    return jsonable(published)


def snapshot_tariff(record: ChargeDetailRecord) -> Tariff | None:
    """The tariff as it priced the record (an unsaved Tariff rebuilt from its snapshot)."""
    snapshot = record.tariff_snapshot
    if not snapshot:
        return None

    def moment(key):
        return parse_datetime(snapshot[key]) if snapshot.get(key) else None

    def amount(key):
        return Decimal(snapshot[key]) if snapshot.get(key) is not None else None

    return Tariff(
        pk=snapshot.get("id") or record.tariff_id,
        organization_id=record.organization_id,
        name=snapshot.get("name", ""),
        currency=snapshot.get("currency", record.currency),
        tax_rate=Decimal(snapshot.get("tax_rate", record.tax_rate)),
        elements=snapshot.get("elements", []),
        min_price=amount("min_price"),
        max_price=amount("max_price"),
        valid_from=moment("valid_from"),
        valid_to=moment("valid_to"),
        updated=record.created,
    )


def cdr_location(session: ChargingSession, party: tuple[str, str]) -> dict:
    """Where the session charged, as the CDR tells it (site, EVSE, connector)."""
    site, connector = session.station.site, session.connector
    plug = PLUGS.get(connector.connector_type)
    location = {
        "id": str(site.pk) if site else "",
        "address": site.street if site else "",
        "city": site.city[:45] if site else "",
        "country": alpha3(site.country if site else "") or alpha3(party[0]),
        "evse_uid": evse_uid(connector),
        "evse_id": evse_identity(connector, *party),
        "connector_id": connector_ocpi_id(connector),
        # A plug OCPI cannot name (OTHER) is told as the commonest one, Type 2: the CDR must
        # name some plug, and no location of ours publishes such a connector.
        "connector_standard": plug[0] if plug else "IEC_62196_T2",
        "connector_format": plug[1] if plug else "SOCKET",
        "connector_power_type": plug[2] if plug else "AC_3_PHASE",
    }
    if site is not None:
        location["name"] = site.name
        if site.postal_code:
            location["postal_code"] = site.postal_code[:10]
        if site.latitude is not None and site.longitude is not None:
            location["coordinates"] = {
                "latitude": f"{site.latitude:.6f}",
                "longitude": f"{site.longitude:.6f}",
            }
    return location


def cdr_to_ocpi(
    record: ChargeDetailRecord, profile: RoamingProfile, partner: RoamingPartner, token=LOOKUP
) -> dict:
    """The OCPI CDR of a charge record of a partner's driver: our totals, as billing priced."""
    session = record.session
    if token is LOOKUP:
        token = roaming_token(session, partner)
    party = (profile.country_code, profile.party_id)
    tariff = snapshot_tariff(record)
    tariff_id = str(tariff.pk) if tariff is not None else ""
    periods = priced_periods(record.periods, tariff_id)
    if not periods:
        # OCPI wants at least one period: a session that moved nothing has one empty one.
        periods = [_period(ocpi_timestamp(session.start), True, 0, 0, tariff_id)]
    seconds = (session.stop - session.start).total_seconds()
    published = {
        "country_code": profile.country_code,
        "party_id": profile.party_id,
        "id": str(record.pk),
        "start_date_time": ocpi_timestamp(session.start),
        "end_date_time": ocpi_timestamp(session.stop),
        "session_id": str(session.pk),
        "cdr_token": cdr_token(session, partner, token),
        "auth_method": auth_method(session, token),
        "cdr_location": cdr_location(session, party),
        "currency": record.currency,
        "charging_periods": periods,
        "total_cost": price(record.total_excl_tax, record.total_incl_tax),
        "total_fixed_cost": price(record.session_fee_amount),
        "total_energy": kwh(record.energy_wh),
        "total_energy_cost": price(record.energy_amount),
        "total_time": hours(max(seconds, 0)),
        "total_time_cost": price(record.time_amount),
        "last_updated": ocpi_timestamp(record.created),
    }
    if session.authorization_reference:
        published["authorization_reference"] = session.authorization_reference
    if tariff is not None:
        published["tariffs"] = [tariff_to_ocpi(tariff, country_code=party[0], party_id=party[1])]
    if record.idle_seconds:
        published["total_parking_time"] = hours(record.idle_seconds)
        published["total_parking_cost"] = price(record.idle_amount)
    if session.station.meter_serial_number:
        published["meter_id"] = session.station.meter_serial_number[:255]
    if record.reason:
        published["remark"] = record.reason[:255]
    return jsonable(published)


def tariff_for_partner(tariff: Tariff, profile: RoamingProfile) -> dict:
    """The OCPI Tariff we publish (JSON numbers throughout)."""
    return jsonable(
        tariff_to_ocpi(tariff, country_code=profile.country_code, party_id=profile.party_id)
    )
