package org.intrustd.link.webrtc;

import dev.onvoid.webrtc.CreateSessionDescriptionObserver;
import dev.onvoid.webrtc.RTCSessionDescription;
import dev.onvoid.webrtc.SetSessionDescriptionObserver;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.intrustd.link.LinkException;

/** Turns libwebrtc's observer callbacks into blocking calls with a deadline. */
final class Async {
  private static final long TIMEOUT_SECONDS = 10;

  private Async() {}

  static RTCSessionDescription create(Consumer<CreateSessionDescriptionObserver> call) {
    CompletableFuture<RTCSessionDescription> f = new CompletableFuture<>();
    call.accept(new CreateSessionDescriptionObserver() {
      @Override
      public void onSuccess(RTCSessionDescription description) {
        f.complete(description);
      }

      @Override
      public void onFailure(String error) {
        f.completeExceptionally(new LinkException(error));
      }
    });
    return await(f);
  }

  static void set(Consumer<SetSessionDescriptionObserver> call) {
    CompletableFuture<Void> f = new CompletableFuture<>();
    call.accept(new SetSessionDescriptionObserver() {
      @Override
      public void onSuccess() {
        f.complete(null);
      }

      @Override
      public void onFailure(String error) {
        f.completeExceptionally(new LinkException(error));
      }
    });
    await(f);
  }

  private static <T> T await(CompletableFuture<T> f) {
    try {
      return f.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof LinkException le ? le : new LinkException("session description failed", e.getCause());
    } catch (TimeoutException e) {
      throw new LinkException("libwebrtc did not answer within " + TIMEOUT_SECONDS + " s");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LinkException("interrupted while waiting for libwebrtc");
    }
  }
}
