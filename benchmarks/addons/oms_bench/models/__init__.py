from . import oms_bench_delivery
