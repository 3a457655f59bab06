#!/usr/bin/env bash
# A local Apache Kafka broker in KRaft mode (one process: broker and its own controller), from
# Kafka's jars on Maven Central (templates/kafka/pom.xml assembles them under KAFKA_HOME/lib).
#
#   broker.sh up      format the data directory (first time only), start, wait until it answers
#   broker.sh down    stop the broker this KAFKA_HOME started (clean shutdown); data is kept
#   broker.sh clean   down, then delete the data: the next `up` starts with no topics
#   broker.sh produce TOPIC   each line of stdin as one message of TOPIC (Kafka's console producer)
#
# Every topic it creates stamps its records with the broker's clock (LogAppendTime): a streaming
# run windows records by that time, so a replay after a restore puts each record back in the
# window it was in (docs, Streaming from Kafka). Settings come from the environment (the
# Makefile sets them): KAFKA_HOME, KAFKA_PORT (clients, default 9092), KAFKA_CONTROLLER_PORT
# (default 9093), KAFKA_PARTITIONS (of auto-created topics, default 2).
set -euo pipefail

: "${KAFKA_HOME:?set KAFKA_HOME, the directory whose lib/ holds the broker jars}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_PARTITIONS="${KAFKA_PARTITIONS:-2}"
RUN="$KAFKA_HOME/run"
PID_FILE="$RUN/broker.pid"
CONF="$RUN/server.properties"

# Runs in place of the calling (sub)shell, so a backgrounded call's $! is the JVM itself.
kafka_java() {
  exec java -Xms256m -Xmx768m -Dlog4j2.configurationFile="$RUN/log4j2.properties" \
    -Dkafka.logs.dir="$RUN/log" -cp "$KAFKA_HOME/lib/*" "$@"
}

# One node, replication 1 everywhere (the internal topics' default of 3 needs three brokers),
# no rebalance delay (a consumer group starts at once), loopback only.
configure() {
  mkdir -p "$RUN/log" "$RUN/data"
  cat >"$CONF" <<CONF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@localhost:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://localhost:$KAFKA_PORT,CONTROLLER://localhost:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://localhost:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$RUN/data
num.partitions=$KAFKA_PARTITIONS
auto.create.topics.enable=true
log.message.timestamp.type=LogAppendTime
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
CONF
  cat >"$RUN/log4j2.properties" <<'CONF'
appender.file.type = File
appender.file.name = file
appender.file.fileName = ${sys:kafka.logs.dir}/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
CONF
}

running() {
  [ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null
}

answers() {
  (exec 3<>"/dev/tcp/localhost/$KAFKA_PORT") 2>/dev/null
}

up() {
  ls "$KAFKA_HOME"/lib/kafka_2.13-*.jar >/dev/null
  configure
  if running; then
    echo "Kafka already runs on localhost:$KAFKA_PORT (pid $(cat "$PID_FILE"))"
    return 0
  fi
  if [ ! -f "$RUN/data/meta.properties" ]; then
    (kafka_java kafka.tools.StorageTool format --config "$CONF" \
      --cluster-id "$(kafka_java kafka.tools.StorageTool random-uuid)" >"$RUN/log/format.log")
  fi
  (kafka_java kafka.Kafka "$CONF" >"$RUN/log/stdout.log" 2>&1) &
  echo $! >"$PID_FILE"
  for _ in $(seq 120); do
    if ! running; then
      echo "Kafka exited while starting; logs: $RUN/log" >&2
      tail -n 30 "$RUN/log/server.log" "$RUN/log/stdout.log" >&2 || true
      return 1
    fi
    if answers && grep -q "Kafka Server started" "$RUN/log/server.log" 2>/dev/null; then
      echo "Kafka up: localhost:$KAFKA_PORT"
      return 0
    fi
    sleep 1
  done
  echo "Kafka did not answer on localhost:$KAFKA_PORT within 120 s; logs: $RUN/log" >&2
  return 1
}

down() {
  running || { rm -f "$PID_FILE"; return 0; }
  local pid
  pid="$(cat "$PID_FILE")"
  kill "$pid"
  for _ in $(seq 120); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$PID_FILE"; return 0; }
    sleep 1
  done
  echo "Kafka (pid $pid) did not stop within 120 s; killing it" >&2
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$PID_FILE"
}

# Waits for every message to be acknowledged (acks=all) before it returns.
produce() {
  local topic="${1:?usage: broker.sh produce TOPIC < lines}"
  answers || { echo "no broker answers on localhost:$KAFKA_PORT: make kafka-up" >&2; return 1; }
  kafka_java org.apache.kafka.tools.ConsoleProducer --bootstrap-server "localhost:$KAFKA_PORT" \
    --topic "$topic" --producer-property acks=all
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  clean) down && rm -rf "$RUN/data" ;;
  produce) produce "${2:-}" ;;
  *) echo "usage: $0 up|down|clean|produce TOPIC" >&2; exit 2 ;;
esac
