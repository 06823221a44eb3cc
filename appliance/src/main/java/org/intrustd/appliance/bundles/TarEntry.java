package org.intrustd.appliance.bundles;

/**
 * One member of a tar archive as {@link TarReader} reads it: the path exactly as the archive
 * spells it (after pax and GNU long-name records), not yet checked in any way.
 *
 * @param mode the permission bits from the header, of which unpacking keeps only "executable"
 * @param size bytes of content that follow the header (regular files; zero for the others here)
 * @param linkTarget the target of a symbolic or hard link, empty otherwise
 */
record TarEntry(String path, Type type, int mode, long size, String linkTarget) {
  enum Type { FILE, DIRECTORY, SYMLINK, HARDLINK, CHAR_DEVICE, BLOCK_DEVICE, FIFO, OTHER }

  /** The ustar type flag for a type (the writer's side). */
  static char flag(Type type) {
    return switch (type) {
      case FILE -> '0';
      case HARDLINK -> '1';
      case SYMLINK -> '2';
      case CHAR_DEVICE -> '3';
      case BLOCK_DEVICE -> '4';
      case DIRECTORY -> '5';
      case FIFO -> '6';
      case OTHER -> 'Z';
    };
  }

  static Type type(byte flag) {
    return switch (flag) {
      case '0', '\0', '7' -> Type.FILE; // '7' (contiguous) is a regular file to every Unix tar
      case '1' -> Type.HARDLINK;
      case '2' -> Type.SYMLINK;
      case '3' -> Type.CHAR_DEVICE;
      case '4' -> Type.BLOCK_DEVICE;
      case '5' -> Type.DIRECTORY;
      case '6' -> Type.FIFO;
      default -> Type.OTHER;
    };
  }
}
