package org.intrustd.flock.load;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.LongConsumer;

/**
 * One selector thread that owns many {@link WsConnection}s: every read, write and timer of its
 * connections runs here, so a connection needs no locks and no thread of its own. A few of these
 * carry 100,000 simulated appliances (a virtual thread per connection would cost each a stack and
 * a read buffer while parked; here an idle connection is a key in a selector and ~1 KB of state).
 */
final class Loop implements AutoCloseable {
  /** Reads go through one buffer per loop; a connection keeps only the bytes of a partial frame. */
  private final ByteBuffer readBuffer = ByteBuffer.allocate(256 * 1024);
  private final Selector selector;
  private final Thread thread;
  private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
  /** Appliances due for a heartbeat, in due order: all share one interval, so a FIFO suffices. */
  private final ArrayDeque<Due> heartbeats = new ArrayDeque<>();
  private final List<LongConsumer> tickers = new ArrayList<>();
  final SplittableRandom random;
  private volatile boolean running = true;

  private record Due(long at, SimAppliance appliance) {}

  Loop(String name, long seed) {
    try {
      selector = Selector.open();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    random = new SplittableRandom(seed);
    thread = Thread.ofPlatform().name(name).daemon().start(this::run);
  }

  /** Runs {@code task} on this loop's thread. */
  void execute(Runnable task) {
    tasks.add(task);
    selector.wakeup();
  }

  /** Runs {@code task} on this loop's thread and waits for its result. */
  <T> T call(Callable<T> task) {
    CompletableFuture<T> result = new CompletableFuture<>();
    execute(() -> {
      try {
        result.complete(task.call());
      } catch (Exception | Error e) {
        result.completeExceptionally(e);
      }
    });
    return result.join();
  }

  /** Calls {@code ticker} with {@link System#nanoTime} every millisecond or so; loop thread only. */
  void addTicker(LongConsumer ticker) {
    tickers.add(ticker);
  }

  void removeTicker(LongConsumer ticker) {
    tickers.remove(ticker);
  }

  /** Sends {@code appliance} a heartbeat at {@code at} (nanoTime); loop thread only. */
  void heartbeatAt(long at, SimAppliance appliance) {
    heartbeats.add(new Due(at, appliance));
  }

  SelectionKey register(java.nio.channels.SocketChannel channel, int ops, WsConnection connection) throws IOException {
    return channel.register(selector, ops, connection);
  }

  ByteBuffer readBuffer() {
    return readBuffer;
  }

  private void run() {
    while (running) {
      try {
        selector.select(tickers.isEmpty() ? 50 : 1);
        var keys = selector.selectedKeys();
        for (SelectionKey key : keys) {
          WsConnection c = (WsConnection) key.attachment();
          c.ready(key);
        }
        keys.clear();
        for (Runnable task; (task = tasks.poll()) != null; ) {
          task.run();
        }
        long now = System.nanoTime();
        for (Due due; (due = heartbeats.peek()) != null && due.at() - now <= 0; ) {
          heartbeats.poll();
          due.appliance().heartbeat(now);
        }
        for (int i = 0; i < tickers.size(); i++) {
          tickers.get(i).accept(now);
        }
      } catch (IOException | RuntimeException e) { // a bug in one connection must not stop the others
        System.err.println(thread.getName() + ": " + e);
        e.printStackTrace();
      }
    }
  }

  @Override
  public void close() {
    running = false;
    selector.wakeup();
    try {
      thread.join(2_000);
      for (SelectionKey key : selector.keys()) {
        key.channel().close();
      }
      selector.close();
    } catch (IOException | InterruptedException e) {
      // closing at the end of a run: nothing left to do about it
    }
  }
}
