# Opens the UART/I2C bus a driver was configured with, so a bad pin or bus number fails at
# construction with one line that names it and the fix (machine's own "invalid pin" names neither).
#
#     from node.drivers import bus
#     uart = bus.uart("pms5003", 1, 9600, tx=17, rx=16)   # or pass an open machine.UART through
#
# An object that is not an int is taken as an already open bus (machine.UART/I2C, or a test peer
# with the same methods) and returned unchanged.


def _pins(who, pins):
    """pins: (role, pin number or None, is an output) each."""
    import machine

    for role, pin, output in pins:
        if pin is None:
            continue
        try:
            # an output is checked driven high: the idle level of UART TX and I2C lines
            if output:
                machine.Pin(pin, machine.Pin.OUT, value=1)
            else:
                machine.Pin(pin, machine.Pin.IN)
        except (ValueError, TypeError) as e:
            raise ValueError("%s: %s=%r is not a usable pin on this board (%s); set %s to the "
                             "GPIO the sensor is wired to" % (who, role, pin, e, role))


def uart(who, bus, baud, tx=None, rx=None):
    if not isinstance(bus, int):
        return bus
    import machine

    _pins(who, (("tx", tx, True), ("rx", rx, False)))
    try:
        return machine.UART(bus, baud, tx=tx, rx=rx) if tx is not None or rx is not None \
            else machine.UART(bus, baud)
    except ValueError as e:
        raise ValueError("%s: cannot open UART%d (%s); use UART 1 or 2 (UART 0 is the USB console)"
                         % (who, bus, e))


def i2c(who, bus, scl=None, sda=None, freq=100000):
    if not isinstance(bus, int):
        return bus
    import machine

    _pins(who, (("scl", scl, True), ("sda", sda, True)))
    try:
        if scl is None and sda is None:
            return machine.I2C(bus, freq=freq)
        return machine.I2C(bus, scl=machine.Pin(scl), sda=machine.Pin(sda), freq=freq)
    except ValueError as e:
        raise ValueError("%s: cannot open I2C%d (%s); use I2C 0 or 1" % (who, bus, e))


def choose(who, what, value, allowed, fmt=None):
    """Check a configuration choice; the error lists what is accepted (fmt "0x%02x": addresses)."""
    if value not in allowed:
        raise ValueError("%s: unsupported %s %s; use one of %s"
                         % (who, what, (fmt or "%r") % (value,),
                            ", ".join((fmt or "%s") % (a,) for a in allowed)))
    return value
