package org.intrustd.flock;

import java.time.Duration;
import org.intrustd.core.signal.SignalCodec;

/**
 * What one flock allows each connection (docs/spec/flock.md "Limits"). Immutable; {@link #DEFAULTS}
 * are the spec's defaults.
 *
 * @param maxMessageBytes longest accepted text message in UTF-8 bytes, at most
 *     {@link SignalCodec#MAX_MESSAGE_BYTES} (the codec refuses anything longer anyway)
 * @param messagesPerSecond sustained inbound message rate per connection
 * @param burst inbound messages a connection may send at once before the rate applies
 * @param introductionsPerClient concurrent sessions one {@code /client} connection may hold
 * @param sessionsPerAppliance concurrent sessions one registered appliance may hold
 * @param challengeExpiry time an appliance has to answer the challenge with {@code register}
 * @param applianceIdle silence after which a registered appliance's connection is closed
 */
public record Limits(
    int maxMessageBytes,
    int messagesPerSecond,
    int burst,
    int introductionsPerClient,
    int sessionsPerAppliance,
    Duration challengeExpiry,
    Duration applianceIdle) {

  public static final Limits DEFAULTS =
      new Limits(SignalCodec.MAX_MESSAGE_BYTES, 100, 200, 16, 64, Duration.ofSeconds(10), Duration.ofSeconds(45));

  public Limits {
    require(maxMessageBytes > 0 && maxMessageBytes <= SignalCodec.MAX_MESSAGE_BYTES,
        "maxMessageBytes must be 1-" + SignalCodec.MAX_MESSAGE_BYTES + ", not " + maxMessageBytes);
    require(messagesPerSecond > 0, "messagesPerSecond must be positive, not " + messagesPerSecond);
    require(burst >= 1, "burst must be at least 1, not " + burst);
    require(introductionsPerClient > 0, "introductionsPerClient must be positive, not " + introductionsPerClient);
    require(sessionsPerAppliance > 0, "sessionsPerAppliance must be positive, not " + sessionsPerAppliance);
    require(challengeExpiry.isPositive(), "challengeExpiry must be positive, not " + challengeExpiry);
    require(applianceIdle.isPositive(), "applianceIdle must be positive, not " + applianceIdle);
  }

  public Limits withChallengeExpiry(Duration expiry) {
    return new Limits(maxMessageBytes, messagesPerSecond, burst, introductionsPerClient, sessionsPerAppliance,
        expiry, applianceIdle);
  }

  public Limits withSessions(int perClient, int perAppliance) {
    return new Limits(maxMessageBytes, messagesPerSecond, burst, perClient, perAppliance,
        challengeExpiry, applianceIdle);
  }

  private static void require(boolean condition, String message) {
    if (!condition) {
      throw new IllegalArgumentException(message);
    }
  }
}
