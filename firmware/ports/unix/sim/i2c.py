# What the I2C sensor simulators share: the peer protocol of machine.attach_i2c (i2c_write,
# i2c_read_into; a NACK is OSError(19)), the `unplugged` and `stuck` faults, and a noise source.
from .faults import Faults
from .rand import Rand

ENODEV = 19


class I2CSim:
    def __init__(self, scenario, faults=None):
        self.scenario = scenario
        self.faults = faults or Faults()
        self.rand = Rand(self.faults.seed)
        self.noise_rand = scenario.rand(self.__class__.__name__)
        self._last = None

    def _ack(self):
        if self.faults.unplugged:
            raise OSError(ENODEV)

    def acks_writes(self):
        """True when every write is ACKed (no command it could refuse), as long as it is
        plugged in: the virtual node's link then need not wait for the answer."""
        return False

    def read_hint(self):
        """(write, answer): a read right after writing `write` (<= 4 bytes) will answer `answer`
        (<= 4 bytes) for as long as nothing else is written to the device, or None. The virtual
        node's link then answers that read itself (simlink.py)."""
        return None

    def measure(self):
        """This reading's values: fresh from the scenario, or frozen with the `stuck` fault."""
        if not (self.faults.stuck and self._last is not None):
            self._last = self._reading()
        return self._last

    def _reading(self):
        raise NotImplementedError
