"""OCPP 1.6 configuration keys kept with the station's device model, as 2.0.1 variables are.

GetConfiguration and ChangeConfiguration exist only in 1.6; their answers are read here and
stored through stations.device_model, so one page and one API list both versions' settings.
"""

from ocpp_gateway.choices import CommandStatus
from ocpp_gateway.models import CommandLog
from stations.device_model import (
    ReadValue,
    SetResult,
    configuration_key,
    record_configuration,
    record_set_results,
)
from stations.models import ChargingStation, Mutability, VariableSource


def record_configuration_answer(station: ChargingStation, asked: tuple, log: CommandLog) -> None:
    """Store the keys of a 1.6 GetConfiguration answer; all keys asked for: the full list."""
    if log.response is None or log.status != CommandStatus.ACCEPTED:
        return
    values = [
        ReadValue(
            configuration_key(item["key"]),
            item.get("value", ""),
            Mutability.READ_ONLY if item["readonly"] else Mutability.READ_WRITE,
        )
        for item in log.response.get("configurationKey") or ()
    ]
    record_configuration(station, values, complete=not asked)


def record_configuration_change(
    station: ChargingStation, key: str, value: str, log: CommandLog
) -> None:
    """Store a 1.6 ChangeConfiguration's answer with the key, as a SetVariables one is."""
    if log.response is None or "status" not in log.response:
        return
    result = SetResult(configuration_key(key), value, log.response["status"])
    record_set_results(station, [result], VariableSource.CONFIGURATION)
