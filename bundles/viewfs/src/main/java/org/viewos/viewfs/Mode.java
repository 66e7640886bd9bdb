package org.viewos.viewfs;

/** The viewfs mount modes ({@code -o move|merge|cow|mincow}). */
public enum Mode {
    /** TARGET shows SRC (a file or a directory). */
    MOVE,
    /** Union: names in SRC win, the rest come from TARGET; writes go where the name is. */
    MERGE,
    /** Union: every change lands in SRC, TARGET is never modified; deletions leave whiteouts. */
    COW,
    /** Union: changes land in TARGET where the user may write it (access(2) W_OK), else as cow. */
    MINCOW;

    /** The mode an option names, or null. */
    static Mode of(String option) {
        return switch (option) {
            case "move" -> MOVE;
            case "merge" -> MERGE;
            case "cow" -> COW;
            case "mincow" -> MINCOW;
            default -> null;
        };
    }
}
