"""Bind JSON parameters to a script's ``param()`` block the way PowerShell binds a splat.

The bootstrap turns the payload's ``params`` object into a hashtable and calls the script with
``@splat``. PowerShell then matches names case-insensitively (a unique prefix is enough),
refuses unknown names when the script has ``[CmdletBinding()]``, requires mandatory
parameters, converts each value to the declared type and applies ``[ValidateRange]``,
``[ValidateSet]``, ``[AllowEmptyString]`` and ``[AllowEmptyCollection]``. Its error texts are
reproduced, so a caller's mistake reads the same in the lab as on Windows. Values are data:
nothing in them is ever evaluated.
"""
from __future__ import annotations

import math
import typing as t

from . import HostScriptError, scripts

COMMON_PARAMETERS = ('Verbose', 'Debug', 'ErrorAction', 'WarningAction', 'InformationAction', 'ErrorVariable',
                     'WarningVariable', 'InformationVariable', 'OutVariable', 'OutBuffer', 'PipelineVariable')
_BINDING = 'System.Management.Automation.ParameterBindingException'
_VALIDATION = 'System.Management.Automation.ParameterBindingValidationException'
_TRANSFORMATION = 'System.Management.Automation.ParameterBindingArgumentTransformationException'
_NET_TYPES = {'string': 'System.String', 'int': 'System.Int32', 'int32': 'System.Int32', 'long': 'System.Int64',
              'int64': 'System.Int64', 'bool': 'System.Boolean', 'switch': 'System.Management.Automation.SwitchParameter'}


def _call_line() -> int:
    """Binding errors come from the bootstrap's call of the script: that line of the command."""
    boot = scripts.get(scripts.BOOTSTRAP)
    if boot is None:
        return 0
    for number, line in enumerate(scripts.normalize_command(boot.text).split('\n'), 1):
        if '@splat' in line:
            return number
    return 0


def _error(message: str, type_name: str, category: str) -> HostScriptError:
    return HostScriptError(message, type_name, category, _call_line())


def bind(script: scripts.Script, params: t.Mapping[str, t.Any]) -> t.Dict[str, t.Any]:
    """``params`` converted and keyed by the script's own parameter names."""
    if not isinstance(params, t.Mapping):
        params = {}
    bound: t.Dict[str, t.Any] = {}
    declared = list(script.params)
    for key, value in params.items():
        low = str(key).lower()
        exact = [p for p in declared if p.name.lower() == low]
        matches = exact or [p for p in declared if p.name.lower().startswith(low)]
        if not matches:
            if script.cmdlet_binding and any(c.lower() == low for c in COMMON_PARAMETERS):
                continue
            if script.cmdlet_binding:
                raise _error("A parameter cannot be found that matches parameter name '%s'." % key, _BINDING, 'InvalidArgument')
            continue    # a script without [CmdletBinding()] puts it in $args
        if len(matches) > 1:
            raise _error("Parameter cannot be processed because the parameter name '%s' is ambiguous. Possible matches "
                         "include: %s." % (key, ' '.join('-' + p.name for p in matches)), _BINDING, 'InvalidArgument')
        param = matches[0]
        bound[param.name] = convert(param, value)
    missing = [p.name for p in declared if p.mandatory and p.name not in bound]
    if missing:
        raise _error('Cannot process command because of one or more missing mandatory parameters: %s.' % ' '.join(missing),
                     _BINDING, 'InvalidArgument')
    return bound


def convert(param: scripts.Param, value: t.Any) -> t.Any:
    """One value converted to ``param``'s type, validated by its attributes."""
    ptype = (param.type or 'object').lower()
    if value is None:
        if param.mandatory:
            raise _error("Cannot bind argument to parameter '%s' because it is null." % param.name, _VALIDATION, 'InvalidData')
        return _null_of(ptype)
    if ptype.endswith('[]') or ptype in ('array', 'object[]'):
        items = list(value) if isinstance(value, list) else [value]
        if not items and param.mandatory and not param.allow_empty_collection:
            raise _error("Cannot bind argument to parameter '%s' because it is an empty array." % param.name,
                         _VALIDATION, 'InvalidData')
        element = ptype[:-2] if ptype.endswith('[]') else 'object'
        out = [None if item is None else _scalar(param, element, item) for item in items]
        for item in out:
            _validate(param, item)
        return out
    result = _scalar(param, ptype, value)
    if ptype == 'string' and result == '' and param.mandatory and not param.allow_empty_string:
        raise _error("Cannot bind argument to parameter '%s' because it is an empty string." % param.name,
                     _VALIDATION, 'InvalidData')
    _validate(param, result)
    return result


def _null_of(ptype: str) -> t.Any:
    if ptype == 'string':
        return ''
    if ptype in ('int', 'int32', 'long', 'int64'):
        return 0
    if ptype in ('bool', 'switch'):
        return False
    return None


def _scalar(param: scripts.Param, ptype: str, value: t.Any) -> t.Any:
    if ptype == 'string':
        return to_ps_string(value)
    if ptype in ('int', 'int32', 'long', 'int64'):
        return _to_int(param, ptype, value)
    if ptype in ('bool', 'switch'):
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)):
            return value != 0
        raise _error("Cannot process argument transformation on parameter '%s'. Cannot convert value \"%s\" to type "
                     "\"System.Boolean\". Boolean parameters accept only Boolean values and numbers, such as $True, "
                     "$False, 1 or 0." % (param.name, _type_shown(value)), _TRANSFORMATION, 'InvalidData')
    if ptype == 'hashtable' and not isinstance(value, dict):
        raise _error("Cannot process argument transformation on parameter '%s'. Cannot convert the \"%s\" value of type "
                     "\"%s\" to type \"System.Collections.Hashtable\"." % (param.name, to_ps_string(value), _type_shown(value)),
                     _TRANSFORMATION, 'InvalidData')
    return value


def _to_int(param: scripts.Param, ptype: str, value: t.Any) -> int:
    net = _NET_TYPES[ptype]
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(round(value))      # .NET converts with banker's rounding, as round() does
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text, 16) if text.lower().startswith('0x') else int(text)
        except ValueError:
            pass
    raise _error("Cannot process argument transformation on parameter '%s'. Cannot convert value \"%s\" to type \"%s\". "
                 "Error: \"Input string was not in a correct format.\"" % (param.name, to_ps_string(value), net),
                 _TRANSFORMATION, 'InvalidData')


def _validate(param: scripts.Param, value: t.Any) -> None:
    if param.validate_range is not None and isinstance(value, int) and not isinstance(value, bool):
        low, high = param.validate_range
        if value < low:
            raise _error("Cannot validate argument on parameter '%s'. The %d argument is less than the minimum allowed "
                         "range of %d. Supply an argument that is greater than or equal to %d and then try the command "
                         "again." % (param.name, value, low, low), _VALIDATION, 'InvalidData')
        if value > high:
            raise _error("Cannot validate argument on parameter '%s'. The %d argument is greater than the maximum allowed "
                         "range of %d. Supply an argument that is less than or equal to %d and then try the command "
                         "again." % (param.name, value, high, high), _VALIDATION, 'InvalidData')
    if param.validate_set is not None and isinstance(value, str):
        if value.lower() not in (item.lower() for item in param.validate_set):
            raise _error("Cannot validate argument on parameter '%s'. The argument \"%s\" does not belong to the set "
                         "\"%s\" specified by the ValidateSet attribute. Supply an argument that is in the set and then "
                         "try the command again." % (param.name, value, ','.join(param.validate_set)),
                         _VALIDATION, 'InvalidData')


def to_ps_string(value: t.Any) -> str:
    """How PowerShell turns a JSON value into ``[string]``: ``True``, ``1.5``, arrays joined by spaces."""
    if value is None:
        return ''
    if isinstance(value, bool):
        return 'True' if value else 'False'
    if isinstance(value, float):
        return repr(value) if not value.is_integer() else str(int(value))
    if isinstance(value, list):
        return ' '.join(to_ps_string(v) for v in value)
    if isinstance(value, dict):
        return '@{%s}' % '; '.join('%s=%s' % (k, to_ps_string(v)) for k, v in value.items())
    return str(value)


def _type_shown(value: t.Any) -> str:
    if isinstance(value, str):
        return 'System.String'
    if isinstance(value, list):
        return 'System.Object[]'
    if isinstance(value, dict):
        return 'System.Management.Automation.PSCustomObject'
    return to_ps_string(value)
