#!/usr/bin/perl
# Fuzzes viewmount's options and sources inside a view (run it in a view with viewfs, unreal and
# ummisc loaded):
#   mountfuzz.pl SEED CASES WORKDIR
# For each fstype (viewfs, unreal, ummiscuname) CASES times, from a fixed seed: random option
# strings (commas, equals, long values, 4 KiB strings, bytes >= 0x80, the module's own option words
# with garbage values), sometimes -r, sometimes a garbage source; a fresh empty directory as the
# mount point. Each viewmount must either
#   - fail with exactly one line "viewmount: ..." on stderr (nothing on stdout), or
#   - succeed silently; then the mount point can be listed (or fails with one errno, no crash) and
#     `viewumount DIR` succeeds.
# After every case the view must still work: a file outside every mount reads back, and every 25
# cases `um_ls_service` lists the three modules.
# Prints "TYPE mounted N refused M" per type, "messages N distinct", "bad N" and up to 20 "bad: "
# lines describing a broken rule. Exit status 0 when nothing was bad.
use strict;
use warnings;

my ($seed, $cases, $work) = @ARGV;
die "usage: mountfuzz.pl SEED CASES WORKDIR\n" unless defined $work;
srand($seed);
chdir $work or die "chdir $work: $!";
mkdir 'src'; mkdir 'store';
open(my $fh, '>', 'src/file') or die; print $fh "in src\n"; close $fh;
open($fh, '>', 'canary') or die; print $fh "canary\n"; close $fh;

my ($bad, %messages) = (0);
my @badLines;
sub bad { $bad++; push @badLines, "bad: $_[0]" if @badLines < 20; }

sub run {    # runs a command, stdout and stderr to files; returns (status, out, err)
    my @cmd = @_;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open(STDOUT, '>', 'run.out') or exit 120;
        open(STDERR, '>', 'run.err') or exit 121;
        exec { $cmd[0] } @cmd;
        exit 127;
    }
    waitpid($pid, 0);
    my $st = $? & 127 ? 128 + ($? & 127) : $? >> 8;
    local $/;
    open(my $o, '<', 'run.out'); my $out = <$o> // ''; close $o;
    open(my $e, '<', 'run.err'); my $err = <$e> // ''; close $e;
    return ($st, $out, $err);
}

sub rstr {    # random string of length 0..$max from one of several alphabets
    my ($max) = @_;
    my $n = int(rand($max + 1));
    my $k = int(rand(5));
    my @a = $k == 0 ? ('a' .. 'z', '0' .. '9')
          : $k == 1 ? (',', '=', ',', '=', 'a', 'b', '/', '.', ' ')
          : $k == 2 ? (map { chr } 0x80 .. 0xff)
          : $k == 3 ? (map { chr } 1 .. 9, 11 .. 0x7f)    # no newline: see ReliabilityMountFuzzTest
          :           ('x');
    return join '', map { $a[int(rand(@a))] } 1 .. $n;
}

my %words = (
    viewfs      => [qw(move merge cow mincow except wok rw ro vstat)],
    unreal      => [qw(ro rw)],
    ummiscuname => [qw(ro rw nodename sysname release)],
);

sub options {
    my ($type) = @_;
    my $k = int(rand(8));
    return rstr(64) if $k == 0;
    return ',' x (1 + int(rand(20))) if $k == 1;
    return rstr(4096) . rstr(200) if $k == 2;                      # 4 KiB and more
    return join(',', map { rstr(12) . '=' . rstr(12) } 1 .. 1 + int(rand(6))) if $k == 3;
    return 'except=' . ('y' x (100 + int(rand(5000)))) if $k == 4;  # long values
    my @w = @{ $words{$type} };
    return join(',', map {
        my $w = $w[int(rand(@w))];
        rand() < 0.5 ? $w : "$w=" . rstr(rand() < 0.2 ? 300 : 10)
    } 1 .. 1 + int(rand(4)));
}

sub source {
    my ($type) = @_;
    my $good = $type eq 'ummiscuname' ? 'none' : "$work/src";
    my $k = int(rand(10));
    return $good if $k < 6;
    return rstr(40) || 'x' if $k == 6;
    return '/' . ('s' x 4100) if $k == 7;
    return "$work/" . join('', map { chr(0x80 + int(rand(0x7f))) } 1 .. 8) if $k == 8;
    return "$work/nonexistent";
}

my $bin = $ENV{VIEWOS_BIN} // '';
my $vm = $bin ? "$bin/viewmount" : 'viewmount';
my $vu = $bin ? "$bin/viewumount" : 'viewumount';
my $ls = $bin ? "$bin/um_ls_service" : 'um_ls_service';
my $n = 0;
my %stat;
for my $type (qw(viewfs unreal ummiscuname)) {
    for my $i (1 .. $cases) {
        $n++;
        my $mp = "$work/mp$n";
        mkdir $mp or die "mkdir $mp: $!";
        my @cmd = ($vm);
        push @cmd, '-r' if rand() < 0.2;
        push @cmd, '-t', $type;
        my $opts = options($type);
        push @cmd, '-o', $opts if rand() < 0.9;
        my $src = source($type);
        push @cmd, $src, $mp;
        my $desc = "$type case $i (opts " . length($opts) . " bytes, src " . length($src) . " bytes)";
        my ($st, $out, $err) = run(@cmd);
        if ($st == 0) {
            $stat{$type}{mounted}++;
            bad("$desc: mounted but printed '$out$err'") if $out ne '' || $err ne '';
            my ($lst, $lout, $lerr) = run('/bin/ls', '-a', $mp);
            bad("$desc: ls of the mount point died ($lst)") if $lst > 2;
            my ($ust, $uout, $uerr) = run($vu, $mp);
            bad("$desc: viewumount failed ($ust): $uerr") if $ust != 0;
        } else {
            $stat{$type}{refused}++;
            my @lines = split /\n/, $err, -1;
            pop @lines if @lines && $lines[-1] eq '';
            bad("$desc: refused with status $st") if $st != 1 && $st != 2;
            bad("$desc: not one line 'viewmount: ...' but '$err'") unless @lines == 1 && $lines[0] =~ /^(viewmount: |usage: )/;
            bad("$desc: printed on stdout '$out'") if $out ne '';
            (my $m = $lines[0] // '') =~ s/^viewmount: \Q$mp\E: //;
            $m =~ s/\(.*//s;
            $messages{$m}++;
        }
        # the view still works: a file outside every mount
        open(my $c, '<', "$work/canary") or bad("$desc: canary unreadable: $!");
        my $line = defined $c ? <$c> : undef;
        bad("$desc: canary reads '" . ($line // 'nothing') . "'") unless defined $line && $line eq "canary\n";
        if ($n % 25 == 0) {
            my ($lst, $lout) = run($ls);
            bad("$desc: um_ls_service failed ($lst)") unless $lst == 0 && $lout =~ /^viewfs: /m && $lout =~ /^unreal: /m;
        }
    }
}
for my $type (qw(viewfs unreal ummiscuname)) {
    printf "%s mounted %d refused %d\n", $type, $stat{$type}{mounted} // 0, $stat{$type}{refused} // 0;
}
printf "messages %d distinct\n", scalar keys %messages;
printf "message %d %s\n", $messages{$_}, $_ for sort { $messages{$b} <=> $messages{$a} } keys %messages;
print "$_\n" for @badLines;
print "bad $bad\n";
exit($bad ? 1 : 0);
