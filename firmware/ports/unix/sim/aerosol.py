# What the particle simulators share: water on particles (kappa-Koehler growth above the
# deliquescence RH) and a unit's parameters over the median unit's. The equations, every
# parameter's meaning and its source are in host/tynys/sim/models/*.json (tynys.sim.models
# computes the same, noise-free, with numpy; tests/firmware/test_simulators.py checks the two
# agree and that DEFAULTS here are the models' medians).
RH_MAX = 99.0
DENSITY_RATIO = 1.65  # particle / water density of the mass growth (Crilley et al., AMT 11, 709, 2018)


def growth(rh, kappa, rh_deliquescence):
    """Mass growth factor at RH [%]: 1 + (kappa / 1.65) / (100 / RH - 1) from the deliquescence
    RH on, 1 below it."""
    if rh < rh_deliquescence:
        return 1.0
    rh = min(rh, RH_MAX)
    return 1.0 + (kappa / DENSITY_RATIO) / (100.0 / rh - 1.0)


def unit(defaults, given):
    """A unit's parameters: the median unit's, replaced by those given (unknown names refused)."""
    u = dict(defaults)
    for k, v in (given or {}).items():
        if k not in u:
            raise ValueError("unknown sensor-model parameter %r; use %s" % (k, ", ".join(sorted(u))))
        u[k] = float(v)
    return u
