package org.intrustd.photos;

import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.util.Optional;

/**
 * libvips in the app's own process (through JNA: the code targets Java 21, where the FFM API
 * is still a preview), for the previews of the images it reads itself (JPEG, PNG, GIF, WebP).
 * It does what the two {@code vipsthumbnail} runs do — shrink-on-load, upright from the EXIF
 * orientation, metadata stripped, the same sizes and JPEG settings — but decodes each
 * original once for both sizes (the small preview is made from the large one in memory) and
 * pays no tool start-up: {@code vipsthumbnail} spends about 40 ms loading libvips' hundred
 * libraries per run, twice per photo.
 * <p>
 * Same decoder, same sandbox as the tool: what changes is that a crash in it takes the app
 * down instead of one tool run. The queue counts a job's attempts before it starts, so a photo
 * that did that is made by the tool next time, alone (see {@link PreviewQueue}). Modules
 * (HEIF, ImageMagick, poppler, …) are not loaded, as for the tool.
 */
final class Vips {
    private static final System.Logger LOG = System.getLogger("photos.previews");
    private static final int SIZE_DOWN = 2; // VipsSize: only ever shrink ("1600x1600>")

    private final Function thumbnail;
    private final Function thumbnailImage;
    private final Function jpegsave;
    private final Function copyMemory;
    private final Function unref;
    private final Function errorCopy;
    private final Function free;

    private Vips(NativeLibrary lib) {
        thumbnail = lib.getFunction("vips_thumbnail");
        thumbnailImage = lib.getFunction("vips_thumbnail_image");
        jpegsave = lib.getFunction("vips_jpegsave");
        copyMemory = lib.getFunction("vips_image_copy_memory");
        unref = lib.getFunction("g_object_unref");
        errorCopy = lib.getFunction("vips_error_buffer_copy");
        free = lib.getFunction("g_free");
    }

    /** libvips 8 (soname 42), started with one thread per operation and no operation cache; empty when it cannot be loaded. */
    static Optional<Vips> load() {
        try {
            // Before vips_init reads it: a VIPSHOME with no modules in it, so only libvips' own loaders run.
            NativeLibrary.getInstance("c").getFunction("setenv").invokeInt(new Object[] {"VIPSHOME", "/nonexistent", 1});
            NativeLibrary lib = NativeLibrary.getInstance("libvips.so.42");
            if (lib.getFunction("vips_init").invokeInt(new Object[] {"photos"}) != 0) {
                throw new IllegalStateException("vips_init failed");
            }
            lib.getFunction("vips_concurrency_set").invokeVoid(new Object[] {1});
            lib.getFunction("vips_cache_set_max").invokeVoid(new Object[] {0});
            LOG.log(Level.INFO, "previews by libvips {0} in this process",
                    lib.getFunction("vips_version_string").invokeString(new Object[0], false));
            return Optional.of(new Vips(lib));
        } catch (RuntimeException | LinkageError e) {
            LOG.log(Level.WARNING, "libvips cannot be used in-process (" + e + "): previews are made by vipsthumbnail runs");
            return Optional.empty();
        }
    }

    /** Refused by libvips, with its reason. */
    static final class Failed extends Exception {
        Failed(String message) {
            super(message);
        }
    }

    /**
     * Writes the large and the small preview of {@code original} to {@code large} and
     * {@code small} (fresh files in tmp/, published by the caller). The variadic options are
     * ints and strings only, which every ABI JNA runs on passes as it passes fixed arguments.
     */
    void previews(Path original, Path large, int largeSize, Path small, int smallSize) throws Failed {
        PointerByReference out = new PointerByReference();
        // "[fail]": a truncated or damaged file is an error, not a half-grey picture.
        check(thumbnail.invokeInt(new Object[] {original + "[fail]", out, largeSize, "height", largeSize, "size", SIZE_DOWN, null}));
        Pointer lazy = out.getValue();
        // Decoded once, into memory: both sizes are made from it.
        Pointer big = (Pointer) copyMemory.invoke(Pointer.class, new Object[] {lazy});
        unref.invokeVoid(new Object[] {lazy});
        if (big == null) {
            throw failed();
        }
        try {
            check(jpegsave.invokeInt(new Object[] {big, large.toString(), "Q", 85, "strip", 1, "optimize_coding", 1, null}));
            check(thumbnailImage.invokeInt(new Object[] {big, out, smallSize, "height", smallSize, "size", SIZE_DOWN, null}));
            Pointer little = out.getValue();
            try {
                check(jpegsave.invokeInt(new Object[] {little, small.toString(), "Q", 78, "strip", 1, "optimize_coding", 1, null}));
            } finally {
                unref.invokeVoid(new Object[] {little});
            }
        } finally {
            unref.invokeVoid(new Object[] {big});
        }
    }

    private void check(int status) throws Failed {
        if (status != 0) {
            throw failed();
        }
    }

    /** libvips' error text, taken out of its (process-wide) buffer. */
    private Failed failed() {
        Pointer text = (Pointer) errorCopy.invoke(Pointer.class, new Object[0]);
        String message = "";
        if (text != null) {
            message = text.getString(0, "UTF-8").strip().replaceAll("\\s+", " ");
            free.invokeVoid(new Object[] {text});
        }
        if (message.length() > 300) {
            message = message.substring(message.length() - 300);
        }
        return new Failed(message.isEmpty() ? "libvips failed" : message);
    }
}
