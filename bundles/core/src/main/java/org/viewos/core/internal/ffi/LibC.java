package org.viewos.core.internal.ffi;

import jnr.ffi.Pointer;
import jnr.ffi.annotations.Out;
import jnr.ffi.annotations.SaveError;

/** The libc functions the core needs, with libc's names and argument order. */
@SaveError
public interface LibC {
    long ptrace(long request, int pid, long addr, long data);

    int waitpid(int pid, @Out int[] status, int options);

    int kill(int pid, int sig);

    long syscall(long number, long a1, long a2, long a3, long a4, long a5);

    long process_vm_readv(int pid, long localIov, long liovcnt, long remoteIov, long riovcnt, long flags);

    long process_vm_writev(int pid, long localIov, long liovcnt, long remoteIov, long riovcnt, long flags);

    int posix_spawn(@Out int[] pid, String path, long fileActions, long attr, long argv, long envp);

    int posix_spawn_file_actions_init(long fileActions);

    int posix_spawn_file_actions_addclose(long fileActions, int fd);

    int posix_spawn_file_actions_adddup2(long fileActions, int fd, int newfd);

    int posix_spawn_file_actions_addopen(long fileActions, int fd, String path, int oflag, int mode);

    int posix_spawn_file_actions_destroy(long fileActions);

    int posix_spawnattr_init(long attr);

    int posix_spawnattr_setflags(long attr, short flags);

    int posix_spawnattr_setsigdefault(long attr, long sigset);

    int posix_spawnattr_setsigmask(long attr, long sigset);

    int posix_spawnattr_destroy(long attr);

    long readlink(byte[] path, Pointer buf, long size);

    int getpid();

    int geteuid();

    int sigfillset(long set);

    int sigemptyset(long set);

    int socketpair(int domain, int type, int protocol, @Out int[] sv);

    int socket(int domain, int type, int protocol);

    int bind(int fd, @jnr.ffi.annotations.In byte[] addr, int len);

    int listen(int fd, int backlog);

    int accept4(int fd, long addr, long addrlen, int flags);

    long read(int fd, @Out byte[] buf, long count);

    long write(int fd, @jnr.ffi.annotations.In byte[] buf, long count);

    int poll(@jnr.ffi.annotations.In @Out int[] fds, long nfds, int timeout);

    int close(int fd);

    int mkfifo(String path, int mode);

    int open(String path, int flags, int mode);
}
