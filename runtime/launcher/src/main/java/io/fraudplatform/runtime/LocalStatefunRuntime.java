package io.fraudplatform.runtime;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.JobListener;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.statefun.flink.core.StatefulFunctionsConfig;
import org.apache.flink.statefun.flink.core.StatefulFunctionsJob;
import org.apache.flink.statefun.flink.core.StatefulFunctionsUniverse;
import org.apache.flink.statefun.flink.core.StatefulFunctionsUniverseProvider;
import org.apache.flink.statefun.flink.core.spi.Modules;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the Stateful Functions runtime (Apache StateFun 3.3.0 on Flink 1.16) in this JVM: a Flink
 * MiniCluster with the web UI, configured from one flink-conf.yaml, resuming from the newest
 * retained checkpoint.
 *
 * <p>Configuration, lowest to highest precedence:
 *
 * <ol>
 *   <li>{@code $FLINK_CONF_DIR/flink-conf.yaml} (default {@code runtime/conf}): the portable keys,
 *       shared with the Kubernetes FlinkDeployment;
 *   <li>{@code $FLINK_CONF_DIR/local/flink-conf.yaml}, if present: keys that only make sense on
 *       one machine (for example the REST endpoint bound to localhost);
 *   <li>environment: {@code STATEFUN_CHECKPOINT_DIR}, {@code STATEFUN_MODULE}, {@code
 *       FLINK_REST_PORT}, {@code PROMETHEUS_PORT};
 *   <li>program arguments {@code -Dkey=value} (any Flink or StateFun key).
 * </ol>
 *
 * <p>Restore: unless {@code execution.savepoint.path} is given, or {@code STATEFUN_RESTORE=none},
 * the newest {@code chk-N} directory holding a {@code _metadata} file under the checkpoint
 * directory is restored.
 */
public final class LocalStatefunRuntime {

  static final String LOCAL_CONF_DIR = "local";
  static final String CHECKPOINT_DIR = "state.checkpoints.dir";
  static final String SAVEPOINT_PATH = "execution.savepoint.path";
  static final String REST_PORT = "rest.port";
  static final String REST_ADDRESS = "rest.address";
  static final String PROMETHEUS_PORT = "metrics.reporter.prom.port";
  static final String MODULE_NAME = "statefun.remote.module-name";
  static final String PARENT_FIRST = "classloader.parent-first-patterns.additional";
  static final String TIMER_FACTORY = "state.backend.rocksdb.timer-service.factory";
  static final String UNALIGNED = "execution.checkpointing.unaligned";
  static final List<String> REQUIRED_PARENT_FIRST =
      Arrays.asList("org.apache.flink.statefun", "org.apache.kafka", "com.google.protobuf");

  private LocalStatefunRuntime() {}

  public static void main(String[] args) throws Exception {
    final Path confDir =
        Paths.get(Optional.ofNullable(System.getenv("FLINK_CONF_DIR")).orElse("runtime/conf"))
            .toAbsolutePath()
            .normalize();
    // Must happen before the first logger is created.
    Path log4jConf = confDir.resolve("log4j2.properties");
    if (System.getProperty("log4j.configurationFile") == null && Files.isRegularFile(log4jConf)) {
      System.setProperty("log4j.configurationFile", log4jConf.toUri().toString());
    }
    final Logger log = LoggerFactory.getLogger(LocalStatefunRuntime.class);

    if (!Files.isRegularFile(confDir.resolve(GlobalConfiguration.FLINK_CONF_FILENAME))) {
      throw new IllegalArgumentException(
          "No " + GlobalConfiguration.FLINK_CONF_FILENAME + " in FLINK_CONF_DIR=" + confDir);
    }
    log.info("Loading Flink configuration from {}", confDir);
    Configuration conf = GlobalConfiguration.loadConfiguration(confDir.toString());
    Path localDir = confDir.resolve(LOCAL_CONF_DIR);
    if (Files.isRegularFile(localDir.resolve(GlobalConfiguration.FLINK_CONF_FILENAME))) {
      log.info("Adding the local-only Flink configuration from {}", localDir);
      conf.addAll(GlobalConfiguration.loadConfiguration(localDir.toString()));
    }

    applyEnv(conf, log);
    applyArgs(conf, args, log);
    validate(conf);
    resolveRestore(conf, log);

    StatefulFunctionsConfig statefunConfig = StatefulFunctionsConfig.fromFlinkConfiguration(conf);
    statefunConfig.setProvider(new ClassPathModulesProvider());

    log.info(
        "Starting StateFun job '{}': module={}, checkpoints={}, restore={}, web UI port={}, prometheus port={}",
        statefunConfig.getFlinkJobName(),
        statefunConfig.getRemoteModuleName(),
        conf.getString(CHECKPOINT_DIR, null),
        conf.getString(SAVEPOINT_PATH, "<none>"),
        conf.getString(REST_PORT, "8081"),
        conf.getString(PROMETHEUS_PORT, "<off>"));

    StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(conf);
    AtomicReference<JobClient> client = new AtomicReference<>();
    AtomicBoolean stopping = new AtomicBoolean(false);
    env.registerJobListener(new ReadinessListener(client, stopping, log, conf));
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(() -> cancelOnShutdown(client.get(), stopping, log), "statefun-stop"));

    try {
      StatefulFunctionsJob.main(env, statefunConfig); // blocks while the job runs
    } catch (Exception e) {
      if (!stopping.get()) {
        throw e;
      }
      log.info("Runtime stopped");
    }
  }

  /** Environment overrides for the few machine-specific settings. */
  static void applyEnv(Configuration conf, Logger log) {
    env("STATEFUN_CHECKPOINT_DIR").ifPresent(v -> set(conf, CHECKPOINT_DIR, toUri(v), "env", log));
    env("STATEFUN_MODULE").ifPresent(v -> set(conf, MODULE_NAME, toUri(v), "env", log));
    env("FLINK_REST_PORT").ifPresent(v -> set(conf, REST_PORT, v, "env", log));
    env("PROMETHEUS_PORT").ifPresent(v -> set(conf, PROMETHEUS_PORT, v, "env", log));
  }

  /** {@code -Dkey=value} (or {@code key=value}) program arguments; they win over everything. */
  static void applyArgs(Configuration conf, String[] args, Logger log) {
    for (String arg : args) {
      String kv = arg.startsWith("-D") ? arg.substring(2) : arg;
      int eq = kv.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException(
            "Unrecognised argument '" + arg + "'; expected -Dkey=value (Flink/StateFun keys)");
      }
      String key = kv.substring(0, eq).trim();
      String value = kv.substring(eq + 1).trim();
      if (key.equals(CHECKPOINT_DIR) || key.equals(MODULE_NAME)) {
        value = toUri(value);
      }
      set(conf, key, value, "argument", log);
    }
  }

  /** Same checks as StatefulFunctionsJob's validator, plus a checkpoint directory, up front. */
  static void validate(Configuration conf) {
    Set<String> patterns = new HashSet<>();
    for (String p : conf.getString(PARENT_FIRST, "").split(";")) {
      patterns.add(p.trim().toLowerCase(Locale.ROOT));
    }
    for (String required : REQUIRED_PARENT_FIRST) {
      if (!patterns.contains(required)) {
        throw new IllegalArgumentException(
            PARENT_FIRST + " must contain " + String.join(";", REQUIRED_PARENT_FIRST));
      }
    }
    if (!"rocksdb".equalsIgnoreCase(conf.getString(TIMER_FACTORY, "ROCKSDB"))) {
      throw new IllegalArgumentException(TIMER_FACTORY + " must be ROCKSDB for StateFun");
    }
    if (conf.getBoolean(UNALIGNED, false)) {
      throw new IllegalArgumentException("StateFun does not support " + UNALIGNED + "=true");
    }
    if (conf.getString(CHECKPOINT_DIR, null) == null) {
      throw new IllegalArgumentException(
          "No checkpoint directory: set STATEFUN_CHECKPOINT_DIR or -D" + CHECKPOINT_DIR + "=...");
    }
    String module = conf.getString(MODULE_NAME, "classpath:module.yaml");
    if (module.startsWith("file:") && !Files.isRegularFile(Paths.get(URI.create(module)))) {
      throw new IllegalArgumentException("Module file not found: " + module);
    }
  }

  /** Sets execution.savepoint.path to the newest retained checkpoint unless told otherwise. */
  static void resolveRestore(Configuration conf, Logger log) throws IOException {
    if (conf.getString(SAVEPOINT_PATH, null) != null) {
      log.info("Restoring from explicitly given {}={}", SAVEPOINT_PATH, conf.getString(SAVEPOINT_PATH, null));
      return;
    }
    String mode = env("STATEFUN_RESTORE").orElse("latest");
    if (mode.equalsIgnoreCase("none")) {
      log.info("STATEFUN_RESTORE=none: starting with empty state");
      return;
    }
    if (!mode.equalsIgnoreCase("latest")) {
      set(conf, SAVEPOINT_PATH, mode, "STATEFUN_RESTORE", log);
      return;
    }
    URI dir = URI.create(conf.getString(CHECKPOINT_DIR, null));
    if (!"file".equals(dir.getScheme())) {
      log.warn("Checkpoint dir {} is not a local path: not looking for a checkpoint to resume", dir);
      return;
    }
    Optional<Path> latest = findLatestCheckpoint(Paths.get(dir));
    if (latest.isPresent()) {
      log.info("Resuming from retained checkpoint {}", latest.get());
      conf.setString(SAVEPOINT_PATH, latest.get().toString());
    } else {
      log.info("No retained checkpoint under {}: starting with empty state", dir);
    }
  }

  /** Newest {@code <dir>/<job-id>/chk-N} holding {@code _metadata} (by _metadata mtime, then N). */
  static Optional<Path> findLatestCheckpoint(Path checkpointDir) throws IOException {
    if (!Files.isDirectory(checkpointDir)) {
      return Optional.empty();
    }
    try (Stream<Path> candidates = Files.find(checkpointDir, 2, (p, a) -> a.isDirectory()
        && p.getFileName().toString().matches("chk-\\d+")
        && Files.isRegularFile(p.resolve("_metadata")))) {
      List<Path> all = candidates.collect(Collectors.toList());
      return all.stream()
          .max(Comparator.comparingLong(LocalStatefunRuntime::metadataMtime)
              .thenComparingLong(p -> Long.parseLong(p.getFileName().toString().substring(4))));
    }
  }

  private static long metadataMtime(Path chk) {
    try {
      return Files.getLastModifiedTime(chk.resolve("_metadata")).toMillis();
    } catch (IOException e) {
      return Long.MIN_VALUE;
    }
  }

  /**
   * SIGTERM: cancel the job so the transactional Kafka sink aborts its open transaction and
   * RocksDB closes; checkpoints stay (RETAIN_ON_CANCELLATION). Once the job is terminal the
   * MiniCluster shuts itself down, so a failing status query afterwards means "done".
   */
  private static void cancelOnShutdown(JobClient client, AtomicBoolean stopping, Logger log) {
    stopping.set(true);
    if (client == null) {
      return;
    }
    try {
      if (client.getJobStatus().get(5, TimeUnit.SECONDS).isGloballyTerminalState()) {
        return;
      }
      log.info("Shutdown requested: cancelling job {} (retained checkpoints are kept)", client.getJobID());
      client.cancel().get(20, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.warn("Could not cancel job {} on shutdown: {}", client.getJobID(), e.toString());
      return;
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      try {
        if (client.getJobStatus().get(5, TimeUnit.SECONDS).isGloballyTerminalState()) {
          break;
        }
        Thread.sleep(100);
      } catch (Exception e) {
        break; // cluster already gone: the job reached a terminal state
      }
    }
    log.info("Job {} stopped", client.getJobID());
  }

  private static Optional<String> env(String name) {
    return Optional.ofNullable(System.getenv(name)).map(String::trim).filter(s -> !s.isEmpty());
  }

  private static void set(Configuration conf, String key, String value, String source, Logger log) {
    log.info("Override from {}: {}={}", source, key, value);
    conf.setString(key, value);
  }

  /** Plain paths become absolute file URIs; URIs (file:, s3:, classpath:, ...) pass through. */
  static String toUri(String pathOrUri) {
    if (pathOrUri.matches("^[a-zA-Z][a-zA-Z0-9+.-]*:.*")) {
      return pathOrUri;
    }
    return Paths.get(pathOrUri).toAbsolutePath().normalize().toUri().toString();
  }

  /** Loads the modules (module.yaml from statefun.remote.module-name) from the class path. */
  static final class ClassPathModulesProvider implements StatefulFunctionsUniverseProvider {
    private static final long serialVersionUID = 1L;

    @Override
    public StatefulFunctionsUniverse get(ClassLoader classLoader, StatefulFunctionsConfig config) {
      return Modules.loadFromClassPath(config).createStatefulFunctionsUniverse();
    }
  }

  /**
   * Logs submission, job RUNNING and "STATEFUN READY" once every task runs (times from JVM start).
   */
  static final class ReadinessListener implements JobListener {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final AtomicReference<JobClient> client;
    private final AtomicBoolean stopping;
    private final Logger log;
    private final String restAddress;
    private final String restPort;
    private final HttpClient http = HttpClient.newHttpClient();

    ReadinessListener(
        AtomicReference<JobClient> client, AtomicBoolean stopping, Logger log, Configuration conf) {
      this.client = client;
      this.stopping = stopping;
      this.log = log;
      this.restAddress = conf.getString(REST_ADDRESS, "localhost");
      this.restPort = conf.getString(REST_PORT, "8081");
    }

    @Override
    public void onJobSubmitted(JobClient jobClient, Throwable failure) {
      if (failure != null) {
        log.error("Job submission failed", failure);
        return;
      }
      client.set(jobClient);
      log.info("Job {} submitted after {} ms of JVM uptime", jobClient.getJobID(), uptime());
      Thread watcher = new Thread(() -> awaitRunning(jobClient), "statefun-readiness");
      watcher.setDaemon(true);
      watcher.start();
    }

    private void awaitRunning(JobClient jobClient) {
      try {
        boolean jobRunning = false;
        while (true) {
          JobStatus status = jobClient.getJobStatus().get(10, TimeUnit.SECONDS);
          if (status.isTerminalState()) {
            return;
          }
          if (status == JobStatus.RUNNING && !jobRunning) {
            jobRunning = true;
            log.info("Job {} RUNNING after {} ms of JVM uptime", jobClient.getJobID(), uptime());
          }
          if (jobRunning && allTasksRunning(jobClient.getJobID().toString())) {
            log.info(
                "STATEFUN READY: all tasks of job {} RUNNING after {} ms of JVM uptime (web UI http://{}:{})",
                jobClient.getJobID(), uptime(), restAddress, restPort);
            return;
          }
          Thread.sleep(250);
        }
      } catch (Exception e) {
        log.warn("Readiness watcher stopped: {}", e.toString());
      }
    }

    /** Asks the MiniCluster's REST API whether every vertex of the job is RUNNING. */
    private boolean allTasksRunning(String jobId) {
      try {
        HttpResponse<String> response =
            http.send(
                HttpRequest.newBuilder(
                        URI.create("http://" + restAddress + ":" + restPort + "/jobs/" + jobId))
                    .timeout(Duration.ofSeconds(5))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
          return false;
        }
        JsonNode vertices = JSON.readTree(response.body()).path("vertices");
        if (!vertices.isArray() || vertices.size() == 0) {
          return false;
        }
        for (JsonNode vertex : vertices) {
          if (!"RUNNING".equals(vertex.path("status").asText())) {
            return false;
          }
        }
        return true;
      } catch (Exception e) {
        return false;
      }
    }

    @Override
    public void onJobExecuted(JobExecutionResult result, Throwable failure) {
      if (failure != null && stopping.get()) {
        log.info("Job cancelled on shutdown");
      } else if (failure != null) {
        log.error("Job ended with failure", failure);
      } else {
        log.info("Job ended after {} ms", result.getNetRuntime());
      }
    }

    private static long uptime() {
      return ManagementFactory.getRuntimeMXBean().getUptime();
    }
  }
}
