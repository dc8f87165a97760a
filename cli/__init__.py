"""`central`: the one entry point of every Central process and operator command."""

import os

# gRPC reads GRPC_EXPERIMENTS once, when it is first imported: this package is imported before
# any module that imports gRPC, in every process `central` starts. gRPC's EventEngine TCP client
# and listener (its default) pass each completion through a thread of their own; with the
# classic poller a unary call costs about a fifth less latency and CPU on either side
# (`python -m bench.grpc_hop`, issue 11). An operator's own setting wins.
GRPC_EXPERIMENTS = "-event_engine_client,-event_engine_listener"
os.environ.setdefault("GRPC_EXPERIMENTS", GRPC_EXPERIMENTS)
