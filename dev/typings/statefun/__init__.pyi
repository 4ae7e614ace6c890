# The parts of flink-statefun's public API the project uses, typed (the SDK ships no type information).
# Checked against the installed SDK by `make lint` (mypy's stubtest). Add what new code needs.
from statefun.context import Context as Context
from statefun.core import SdkAddress as SdkAddress
from statefun.core import Type as Type
from statefun.core import TypeSerializer as TypeSerializer
from statefun.core import ValueSpec as ValueSpec
from statefun.egress_io import kafka_egress_message as kafka_egress_message
from statefun.messages import EgressMessage as EgressMessage
from statefun.messages import Message as Message
from statefun.messages import message_builder as message_builder
from statefun.request_reply_v3 import RequestReplyHandler as RequestReplyHandler
from statefun.statefun_builder import StatefulFunctions as StatefulFunctions
from statefun.utils import make_json_type as make_json_type
from statefun.wrapper_types import FloatType as FloatType
from statefun.wrapper_types import IntType as IntType
from statefun.wrapper_types import StringType as StringType
