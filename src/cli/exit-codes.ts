// Exit statuses of all three programs. Usage errors exit with 2, as POSIX tools do; an
// operation or a start-up that failed (port taken, disk, an error reply) with 1.
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
