package io.fraudplatform.runtime.ingress;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;

/**
 * The payload the tolerant ingress hands to a function: where the record came from, then the
 * record's value bytes.
 *
 * <pre>
 *   0x00 &lt;header: one line of JSON&gt; 0x0A &lt;value bytes&gt;
 *   header = {"v":1,"topic":"transactions","partition":3,"offset":42,"timestamp":1764300000000,
 *             "key":"ok"|"missing"|"empty"|"not_utf8", "key_base64":"..." (not_utf8 only),
 *             "value_size":123 (-1: no value), "truncated":false}
 * </pre>
 *
 * Why: a record the functions reject must reach the dead letters with its topic, partition and
 * offset and its original key and value bytes, so that it can be found and replayed; only the
 * ingress knows them. The leading NUL byte tells the envelope apart from a bare JSON value (which
 * never starts with NUL), so the functions also read records queued before this format existed.
 * A value larger than the ingress's {@code maxValueBytes} is cut to its first {@link
 * #TRUNCATED_PREFIX_BYTES} bytes and flagged, and the functions dead-letter it as too large.
 *
 * <p>The Python side of this format is {@code fraud_common.envelope}; both are tested against the
 * same example ({@code src/test/resources/envelope-example.bin}).
 */
public final class RecordEnvelope {

  public static final int VERSION = 1;
  public static final byte MAGIC = 0x00;
  public static final int TRUNCATED_PREFIX_BYTES = 4096;

  private RecordEnvelope() {}

  /** How the record's key arrived; the function's id for it says the same in words. */
  public enum KeyState {
    OK("ok"),
    MISSING("missing"),
    EMPTY("empty"),
    NOT_UTF8("not_utf8");

    final String wire;

    KeyState(String wire) {
      this.wire = wire;
    }

    static KeyState of(byte[] key) {
      if (key == null) {
        return MISSING;
      }
      if (key.length == 0) {
        return EMPTY;
      }
      return isUtf8(key) ? OK : NOT_UTF8;
    }
  }

  /** The envelope of one record (value may be null: a tombstone). */
  public static byte[] encode(
      String topic,
      int partition,
      long offset,
      long timestamp,
      byte[] key,
      byte[] value,
      int maxValueBytes) {
    KeyState keyState = KeyState.of(key);
    boolean truncated = value != null && value.length > maxValueBytes;
    byte[] body =
        value == null
            ? new byte[0]
            : truncated ? Arrays.copyOf(value, Math.min(TRUNCATED_PREFIX_BYTES, maxValueBytes)) : value;
    StringBuilder header = new StringBuilder(160);
    header
        .append("{\"v\":")
        .append(VERSION)
        .append(",\"topic\":")
        .append(jsonString(topic))
        .append(",\"partition\":")
        .append(partition)
        .append(",\"offset\":")
        .append(offset)
        .append(",\"timestamp\":")
        .append(timestamp)
        .append(",\"key\":\"")
        .append(keyState.wire)
        .append('"');
    if (keyState == KeyState.NOT_UTF8) {
      header.append(",\"key_base64\":\"").append(Base64.getEncoder().encodeToString(key)).append('"');
    }
    header
        .append(",\"value_size\":")
        .append(value == null ? -1 : value.length)
        .append(",\"truncated\":")
        .append(truncated)
        .append('}');
    byte[] head = header.toString().getBytes(StandardCharsets.UTF_8);
    ByteBuffer out = ByteBuffer.allocate(1 + head.length + 1 + body.length);
    out.put(MAGIC).put(head).put((byte) '\n').put(body);
    return out.array();
  }

  static boolean isUtf8(byte[] bytes) {
    try {
      StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes));
      return true;
    } catch (CharacterCodingException e) {
      return false;
    }
  }

  /** A JSON string literal; topic names are [a-zA-Z0-9._-], but escape defensively anyway. */
  static String jsonString(String value) {
    StringBuilder out = new StringBuilder(value.length() + 2).append('"');
    for (char c : value.toCharArray()) {
      if (c == '"' || c == '\\') {
        out.append('\\').append(c);
      } else if (c < 0x20) {
        out.append(String.format("\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    return out.append('"').toString();
  }
}
