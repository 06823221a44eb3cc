package org.intrustd.flock.load;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongConsumer;

/**
 * A simulated browser: introductions, each an {@code introduce} with an offer and two candidates,
 * then — once the appliance's answer and its two candidates are in — a {@code bye}. It keeps at
 * most {@code inFlight} introductions open and starts at most {@code perSecond} a second (under the
 * flock's 100 messages/s per connection: an introduction is 4 messages from the browser).
 *
 * <p>In {@link Mode#ECHO} the same client, with the same messages in the same order, talks to a
 * bare WebSocket echo server and plays the appliance's part itself when its introduce comes
 * back: 7 messages in and 7 out of the server per introduction, as through the flock, and 4 hops
 * until the answer (browser → server → browser → server → browser; through the flock: browser →
 * flock → appliance → flock → browser). The difference is what the flock costs over the
 * transport.
 */
final class SimBrowser extends WsConnection implements LongConsumer {
  enum Mode { FLOCK, ECHO }

  /** The appliances to ask for: a volatile array swapped by the run. */
  static final class Targets {
    volatile String[] ids = new String[0];
  }

  private static final String APPLIANCE_SIDE = "-a";
  private static final long MAX_LAG = 1_000_000_000L;

  private final Mode mode;
  private final Wire wire;
  private final Targets targets;
  private final Tally tally;
  private final Map<String, Intro> open = new HashMap<>();
  private volatile int inFlight;
  private volatile long periodNanos;
  private boolean ready;
  private long nextStart;
  private long sessions;

  private static final class Intro {
    final long start;
    boolean answered;
    int candidates;

    Intro(long start) {
      this.start = start;
    }
  }

  SimBrowser(Loop loop, InetSocketAddress server, InetAddress source, Mode mode, Wire wire, Targets targets,
      Tally tally) {
    super(loop, server, source, mode == Mode.FLOCK ? "/client" : "/echo");
    this.mode = mode;
    this.wire = wire;
    this.targets = targets;
    this.tally = tally;
  }

  /** Sets the pace; {@code perSecond} 0 stops new introductions. Any thread. */
  void pace(int maxInFlight, double perSecond) {
    inFlight = maxInFlight;
    periodNanos = perSecond <= 0 ? 0 : (long) (1e9 / perSecond);
  }

  boolean isReady() {
    return ready && state() == State.OPEN;
  }

  @Override
  void opened() {
    if (mode == Mode.ECHO) {
      ready = true; // an echo server greets no one
    }
    loop.addTicker(this);
  }

  /** Starts what is due; called by the loop about every millisecond. */
  @Override
  public void accept(long now) {
    long period = periodNanos;
    String[] ids = targets.ids;
    if (!ready || period == 0 || ids.length == 0 || state() != State.OPEN) {
      nextStart = now;
      return;
    }
    if (now - nextStart > MAX_LAG) {
      nextStart = now; // after a stall, no burst to catch up
    }
    while (open.size() < inFlight && nextStart - now <= 0) {
      start(now, ids[loop.random.nextInt(ids.length)]);
      nextStart += period;
    }
  }

  private void start(long now, String appliance) {
    String session = "s" + Long.toString(sessions++, 36);
    open.put(session, new Intro(now));
    if (tally.measuring) {
      tally.started++;
    }
    send(wire.introduce(session, appliance));
    send(wire.browserCandidate(0, session));
    send(wire.browserCandidate(1, session));
  }

  @Override
  void text(String text) {
    String type = Wire.type(text);
    if (type.equals("hello")) {
      ready = true;
      return;
    }
    if (type.equals("pong")) {
      return;
    }
    String session = Wire.member(text, "session");
    if (session == null) {
      tally.fail(type + " " + Wire.member(text, "code"));
      return;
    }
    if (mode == Mode.ECHO) {
      echoed(type, session);
      return;
    }
    switch (type) {
      case "answer" -> answered(session);
      case "candidate" -> candidate(session);
      case "bye" -> failed(session, "bye " + Wire.member(text, "reason"));
      case "error" -> failed(session, "error " + Wire.member(text, "code"));
      default -> tally.fail("unexpected " + type);
    }
  }

  /** The echo baseline: our own messages come back; the introduce stands for the offer at the appliance. */
  private void echoed(String type, String session) {
    switch (type) {
      case "introduce" -> {
        send(wire.answer(session));
        send(wire.applianceCandidate(0, session + APPLIANCE_SIDE));
        send(wire.applianceCandidate(1, session + APPLIANCE_SIDE));
      }
      case "answer" -> answered(session);
      case "candidate" -> {
        if (session.endsWith(APPLIANCE_SIDE)) {
          candidate(session.substring(0, session.length() - APPLIANCE_SIDE.length()));
        }
      }
      default -> { } // our own candidates and byes
    }
  }

  private void answered(String session) {
    Intro intro = open.get(session);
    if (intro != null && !intro.answered) {
      intro.answered = true;
      if (tally.measuring) {
        tally.answer.add(System.nanoTime() - intro.start);
      }
      completeIfDone(session, intro);
    }
  }

  private void candidate(String session) {
    Intro intro = open.get(session);
    if (intro != null) {
      intro.candidates++;
      completeIfDone(session, intro);
    }
  }

  private void completeIfDone(String session, Intro intro) {
    if (intro.answered && intro.candidates >= 2) {
      open.remove(session);
      if (tally.measuring) {
        tally.completed++;
        tally.complete.add(System.nanoTime() - intro.start);
      }
      send(wire.bye(session));
    }
  }

  private void failed(String session, String why) {
    if (open.remove(session) != null) {
      tally.fail(why);
    }
  }

  @Override
  void ended(String why) {
    loop.removeTicker(this);
    tally.fail("browser connection ended: " + why);
    open.clear();
  }
}
