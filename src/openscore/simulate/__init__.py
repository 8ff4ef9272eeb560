"""The population simulator: a synthetic city with behaviours, a social graph and ground truth.

``write_city(load_config(...), out)`` writes ``events/`` (the ledger's catalogue, one file per
month), ``truth/`` and ``summary.md``; ``simulate(config, sink)`` lives the city month by month
into any sink. ``docs/simulate.md`` describes the model, the parameters and the truth columns.
"""

from openscore.simulate.config import ConfigError, SimulationConfig, load_config
from openscore.simulate.engine import CityRun, NullSink, simulate
from openscore.simulate.summary import Figures, city_figures
from openscore.simulate.writer import write_city

__all__ = [
    "CityRun",
    "ConfigError",
    "Figures",
    "NullSink",
    "SimulationConfig",
    "city_figures",
    "load_config",
    "simulate",
    "write_city",
]
