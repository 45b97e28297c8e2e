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

    def measure(self):
        """This reading's values: fresh from the scenario, or frozen with the `stuck` fault."""
        if not (self.faults.stuck and self._last is not None):
            self._last = self._reading()
        return self._last

    def _reading(self):
        raise NotImplementedError
