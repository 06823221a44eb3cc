package org.intrustd.cli;

import java.nio.file.Files;
import java.util.concurrent.Callable;
import org.intrustd.core.identity.IdentityStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "id", mixinStandardHelpOptions = true,
    description = "Print this appliance's ID (creating its identity if there is none yet).")
final class IdCommand implements Callable<Integer> {
  @Mixin
  StateOption options = new StateOption();

  @Override
  public Integer call() {
    boolean existed = Files.exists(options.state().resolve("identity.key"));
    System.out.println(IdentityStore.loadOrCreate(options.state()).id());
    if (!existed) {
      System.err.println("created a new identity in " + options.state());
    }
    return 0;
  }
}
