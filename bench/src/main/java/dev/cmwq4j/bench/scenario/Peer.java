package dev.cmwq4j.bench.scenario;

import dev.cmwq4j.Blocking;
import dev.cmwq4j.Cmwq;
import dev.cmwq4j.Workqueue;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import kotlin.coroutines.EmptyCoroutineContext;
import kotlinx.coroutines.CoroutineDispatcher;
import kotlinx.coroutines.Dispatchers;

/**
 * The executors compared, each with its default configuration and no tuning. {@link #create}
 * makes one instance; a scenario with many components calls it once per component.
 */
enum Peer {
    /** A bound {@link Workqueue} on the shared {@link Cmwq}: default config, no tuning. */
    CMWQ("cmwq", "cmwq4j bound Workqueue, shared Cmwq, defaults") {
        @Override
        PeerExecutor create(String name) {
            Workqueue wq = Workqueue.builder(name).build();
            ExecutorService view = wq.asExecutorService(); // its Future.get is announced blocking
            return new PeerExecutor() {
                @Override
                void execute(Runnable task) {
                    wq.execute(task);
                }

                @Override
                Executor executor() {
                    return wq; // a Workqueue is an Executor: execute() queues a one-shot work
                }

                @Override
                Executor service() {
                    return view;
                }

                @Override
                <T> Future<T> submit(Callable<T> task) {
                    return view.submit(task);
                }

                @Override
                void sleep(long nanos, boolean announced) throws InterruptedException {
                    if (announced) {
                        Blocking.sleep(Duration.ofNanos(nanos));
                    } else {
                        Thread.sleep(Duration.ofNanos(nanos));
                    }
                }

                @Override
                String note() {
                    Cmwq c = wq.cmwq();
                    var st = wq.stats();
                    return "cmwq peak workers " + c.peakThreads() + ", alive " + c.threads() + "; blocks announced "
                            + st.blocksAnnounced() + ", detected " + st.blocksDetected();
                }
            };
        }
    },
    FIXED("fixed", "ThreadPoolExecutor(ncpu, ncpu, LinkedBlockingQueue)") {
        @Override
        PeerExecutor create(String name) {
            return new JdkPeer(new ThreadPoolExecutor(ncpu(), ncpu(), 0L, TimeUnit.MILLISECONDS,
                    new LinkedBlockingQueue<>()));
        }
    },
    CACHED("cached", "Executors.newCachedThreadPool()") {
        @Override
        PeerExecutor create(String name) {
            return new JdkPeer(Executors.newCachedThreadPool());
        }
    },
    FJP("fjp", "new ForkJoinPool(ncpu); sleeps are plain") {
        @Override
        PeerExecutor create(String name) {
            return new JdkPeer(new ForkJoinPool(ncpu()));
        }
    },
    FJP_MANAGED("fjp-managed", "new ForkJoinPool(ncpu); announced sleeps in ForkJoinPool.managedBlock") {
        @Override
        PeerExecutor create(String name) {
            return new JdkPeer(new ForkJoinPool(ncpu())) {
                @Override
                void sleep(long nanos, boolean announced) throws InterruptedException {
                    if (announced) {
                        ManagedSleep.sleep(nanos);
                    } else {
                        Thread.sleep(Duration.ofNanos(nanos));
                    }
                }
            };
        }
    },
    VIRTUAL("virtual", "Executors.newVirtualThreadPerTaskExecutor()") {
        @Override
        PeerExecutor create(String name) {
            return new JdkPeer(Executors.newVirtualThreadPerTaskExecutor());
        }
    },
    /** Kotlin's dispatchers are global: every component of a scenario shares the one dispatcher. */
    KT_DEFAULT("kt-default", "kotlinx.coroutines Dispatchers.Default (global)") {
        @Override
        PeerExecutor create(String name) {
            return new KotlinPeer(Dispatchers.getDefault());
        }
    },
    KT_IO("kt-io", "kotlinx.coroutines Dispatchers.IO (global)") {
        @Override
        PeerExecutor create(String name) {
            return new KotlinPeer(Dispatchers.getIO());
        }
    };

    final String id;
    final String description;

    Peer(String id, String description) {
        this.id = id;
        this.description = description;
    }

    abstract PeerExecutor create(String name);

    static Peer byId(String id) {
        String want = id.trim().toLowerCase(Locale.ROOT);
        for (Peer p : values()) {
            if (p.id.equals(want)) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown executor '" + id + "'; known: " + ids());
    }

    static String ids() {
        StringBuilder sb = new StringBuilder();
        for (Peer p : values()) {
            sb.append(sb.isEmpty() ? "" : ", ").append(p.id);
        }
        return sb.toString();
    }

    static int ncpu() {
        return Runtime.getRuntime().availableProcessors();
    }

    /** A JDK {@link ExecutorService}. */
    private static class JdkPeer extends PeerExecutor {
        final ExecutorService es;

        JdkPeer(ExecutorService es) {
            this.es = es;
        }

        @Override
        void execute(Runnable task) {
            es.execute(task);
        }

        @Override
        Executor executor() {
            return es;
        }

        @Override
        <T> Future<T> submit(Callable<T> task) {
            // ForkJoinPool: a ForkJoinTask, whose get() from a worker of the same pool helps and
            // compensates as join() does.
            return es.submit(task);
        }

        @Override
        String note() {
            if (es instanceof ThreadPoolExecutor tpe) {
                return "pool largest " + tpe.getLargestPoolSize();
            }
            if (es instanceof ForkJoinPool fjp) {
                return "pool size now " + fjp.getPoolSize();
            }
            return "";
        }
    }

    /** A Kotlin {@link CoroutineDispatcher}, given plain Runnables. */
    private static final class KotlinPeer extends PeerExecutor {
        final CoroutineDispatcher dispatcher;

        KotlinPeer(CoroutineDispatcher dispatcher) {
            this.dispatcher = dispatcher;
        }

        @Override
        void execute(Runnable task) {
            dispatcher.dispatch(EmptyCoroutineContext.INSTANCE, task);
        }

        @Override
        <T> Future<T> submit(Callable<T> task) {
            return CompletableFuture.supplyAsync(() -> {
                try {
                    return task.call();
                } catch (Exception e) {
                    throw new CompletionException(e);
                }
            }, this::execute);
        }
    }
}
