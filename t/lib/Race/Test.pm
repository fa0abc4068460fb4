package Race::Test;

# The ngx_race test harness: a temp folder per test, free loopback ports,
# real daemons started by PID and stopped by PID, nginx with the module
# loaded from an inline config, and a final check of every log for alerts
# and sanitizer reports.

use strict;
use warnings;

use Cwd qw(abs_path);
use HTTP::Tiny;
use Scalar::Util qw(weaken);
use File::Basename qw(dirname);
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);
use Test::More;
use Test2::API ();

my $ROOT = abs_path(dirname(__FILE__) . '/../../..');

# libmongoc keeps its counters in a shared-memory file named for the
# process id, which a process killed by a test leaves behind; a later
# program that gets the same id then prints a warning into the output a
# test reads.  The tests' programs keep their counters in memory.
$ENV{MONGOC_DISABLE_SHM} = 1;

# Every token and session a test comes to hold: none may be in any log.
# Race::Token::mint() records what it signs; the answers of the API
# (its "token" fields, its race_session cookies) are recorded as they
# arrive through HTTP::Tiny; a test records others with secret().
my %SECRETS;

# the harnesses not done yet, for the checks of a test that dies
my @LIVE;

sub secret {
    my (@values) = @_;
    shift @values if ref $values[0];
    $SECRETS{$_} = 1 for grep { defined && length >= 8 } @values;
}

sub secrets_in {
    my ($text) = @_;
    return unless defined $text;
    secret($1) while $text =~ /"(?:token|access_token)"\s*:\s*"([^"]+)"/g;
    secret($1) while $text =~ /race_session=([^;\s]+)/g;
}

{
    no warnings 'redefine';
    my $request = \&HTTP::Tiny::request;

    *HTTP::Tiny::request = sub {
        my $res = $request->(@_);
        if (ref $res eq 'HASH') {
            secrets_in($res->{content});
            my $cookie = $res->{headers}{'set-cookie'};
            secrets_in(ref $cookie ? join("\n", @$cookie) : $cookie);
        }
        return $res;
    };
}

# what ASan, LSan and UBSan reports start with
my $SAN = qr/AddressSanitizer|LeakSanitizer|runtime error:/;

sub new {
    my ($class, %opt) = @_;

    # a folder of the caller's (kept), or a temporary one
    my $dir = $opt{dir};

    if ($dir) {
        make_path($dir);
        $dir = abs_path($dir);

    } else {
        $dir = tempdir('ngx-race-XXXXXXXX', TMPDIR => 1,
            CLEANUP => !$ENV{RACE_KEEP});
    }

    chmod 0755, $dir;

    my $self = bless {
        dir   => $dir,
        procs => {},       # name => pid
        order => [],       # start order, stopped in reverse
        ports => {},
        logs  => [],       # files checked for alerts and sanitizer reports
    }, $class;

    diag("test dir $dir") if $ENV{RACE_KEEP};

    push @LIVE, $self;
    weaken($LIVE[-1]);

    return $self;
}

sub dir   { $_[0]{dir} }
sub root  { $ROOT }
sub build { $ENV{RACE_BUILD} || "$ROOT/build" }

sub cache {
    my $c = $ENV{RACE_CACHE} || ($ENV{HOME} || '/tmp') . '/.cache/ngx_race';
    make_path($c) unless -d $c;
    return $c;
}

# a loopback port nobody listens on now, never handed out twice in a test
sub port {
    my ($self) = @_;

    for (1 .. 50) {
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
            LocalPort => 0, Proto => 'tcp', ReuseAddr => 0)
            or next;
        my $p = $s->sockport;
        close $s;
        next if $self->{ports}{$p}++;
        return $p;
    }

    die "no free port\n";
}

sub wait_port {
    my ($self, $port, $secs) = @_;

    my $end = time + ($secs || 10);

    while (time < $end) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
            PeerPort => $port, Proto => 'tcp', Timeout => 1);
        if ($s) {
            close $s;
            return 1;
        }
        sleep 0.05;
    }

    return 0;
}

# fork and exec argv; output goes to DIR/NAME.log
sub spawn {
    my ($self, %a) = @_;

    my $name = $a{name} or die "spawn: no name\n";
    my $log = $a{log} || "$self->{dir}/$name.log";

    die "spawn: $name is running\n" if $self->{procs}{$name};

    my $pid = fork();
    die "fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $log or POSIX::_exit(127);
        open STDERR, '>&', \*STDOUT;
        chdir $a{cwd} if $a{cwd};
        $ENV{$_} = $a{env}{$_} for keys %{$a{env} || {}};
        { exec @{$a{argv}}; }
        print STDERR "exec $a{argv}[0]: $!\n";
        POSIX::_exit(127);
    }

    # a sanitized program's stderr is its log: see san_env()
    $self->log_file($log)
        if $a{env} && $a{env}{UBSAN_OPTIONS}
            && !grep { $_ eq $log } @{$self->{logs}};

    $self->{procs}{$name} = $pid;
    push @{$self->{order}}, $name;
    return $pid;
}

sub pid { $_[0]{procs}{$_[1]} }

# a process that has exited is reaped here and forgotten, so that its
# PID, which the system may hand out again, is never signalled
sub running {
    my ($self, $name) = @_;

    my $pid = $self->{procs}{$name} or return 0;
    return 1 if waitpid($pid, WNOHANG) == 0;

    $self->{status}{$name} = $?;
    $self->forget($name);
    return 0;
}

sub forget {
    my ($self, $name) = @_;
    delete $self->{procs}{$name};
    @{$self->{order}} = grep { $_ ne $name } @{$self->{order}};
}

# stop by PID: the signal (TERM by default), then KILL after a grace time
sub stop {
    my ($self, $name, %a) = @_;

    return $self->{status}{$name} unless $self->running($name);

    my $pid = $self->{procs}{$name};
    $self->forget($name);

    kill $a{signal} || 'TERM', $pid;

    my $end = time + ($a{grace} || 20);
    while (time < $end) {
        return $? if waitpid($pid, WNOHANG) == $pid;
        sleep 0.05;
    }

    diag("$name ($pid) did not stop, killing it");
    kill 'KILL', $pid;
    waitpid($pid, 0);
    return $?;
}

sub stop_all {
    my ($self) = @_;
    $self->stop($_) for reverse @{$self->{order}};
}

sub DESTROY {
    my ($self) = @_;
    local $?;
    $self->finish unless $self->{done};
    $self->stop_all;
}

sub log_file {
    my ($self, $file) = @_;
    push @{$self->{logs}}, $file;
}

# the output of a sanitized program run to its end (a tool, a check of
# settings): checked for sanitizer reports with all the others, in one
# assertion, since a test may run hundreds
sub san_output {
    my ($self, $file) = @_;
    push @{$self->{outputs}}, $file;
}

sub read_file {
    my ($self, $file) = @_;
    $file = "$self->{dir}/$file" unless $file =~ m{^/};
    open my $fh, '<', $file or return '';
    local $/;
    return <$fh>;
}

sub write_file {
    my ($self, $name, $content) = @_;
    my $file = "$self->{dir}/$name";
    make_path(dirname($file));
    open my $fh, '>', $file or die "$file: $!\n";
    print $fh $content;
    close $fh;
    return $file;
}

# engines: each module starts its daemon through spawn() and returns
# its address

sub redis {
    my ($self, %opt) = @_;
    require Race::Engine::Redis;
    return Race::Engine::Redis::start($self, %opt);
}

sub kafka {
    my ($self, %opt) = @_;
    require Race::Engine::Kafka;
    return Race::Engine::Kafka::start($self, %opt);
}

sub ferretdb {
    my ($self, %opt) = @_;
    require Race::Engine::FerretDB;
    return Race::Engine::FerretDB::start($self, %opt);
}

# the python3 of a venv with the tests' pinned PyPI packages
# (t/engines/py-install.sh), made at the first call and cached
my $PYTHON;

sub python {
    my ($self) = @_;

    return $PYTHON if $PYTHON;

    my $cache = $self->cache;
    my $dir = `"$ROOT/t/engines/py-install.sh" "$cache"`;
    chomp $dir;
    die "t/engines/py-install.sh failed\n" if $? || !-x "$dir/bin/python3";

    return $PYTHON = "$dir/bin/python3";
}


# nginx

sub module { $_[0]->build . '/ngx_http_race_module.so' }

sub sanitized { -e $_[0]->build . '/asan' }

# the environment of a sanitized program: reports go to files of ours
sub san_env {
    my ($self, $name, %o) = @_;

    return {} unless $self->sanitized;

    my $libasan = `cc -print-file-name=libasan.so`;
    chomp $libasan;

    push @{$self->{san}}, "$self->{dir}/$name.asan";

    return {
        LD_PRELOAD => join(' ', $libasan,
            grep { -e } $self->build . '/t/keep_loaded.so'),
        ASAN_OPTIONS => "log_path=$self->{dir}/$name.asan"
            . ':detect_leaks=' . (defined $o{leaks} ? $o{leaks} : 1)
            . ':abort_on_error=0:detect_odr_violation=0'
            # Debian's nginx has no frame pointers: unwind the slow way,
            # or reports stop at ngx_alloc()
            . ':fast_unwind_on_malloc=0:malloc_context_size=16',
        LSAN_OPTIONS => "suppressions=$ROOT/t/lsan.supp:print_suppressions=0",
        UBSAN_OPTIONS => ubsan_options("$self->{dir}/$name.asan"),
    };
}

# Debian's gcc builds UBSan as a runtime of its own, which writes to
# stderr whatever log_path says: the stderr of every sanitized program is
# checked (spawn(), san_output()).  The first report stops the program,
# so that none goes unnoticed where its output is not read; build.sh
# exports the same for the programs run without san_env().
sub ubsan_options {
    my ($log) = @_;
    return ($log ? "log_path=$log:" : '')
        . 'print_stacktrace=1:halt_on_error=1';
}

# writes DIR/nginx.conf from the http{} body and main-level lines given,
# with the module loaded and every path inside the test folder
sub nginx_conf {
    my ($self, %a) = @_;

    my $dir = $self->{dir};
    my $user = $> == 0 ? "user root root;\n" : '';
    my $module = $self->module;

    my $conf = <<"EOF";
load_module $module;
$user
daemon off;
master_process on;
worker_processes ${\ ($a{workers} || 1)};
error_log $dir/error.log ${\ ($a{log_level} || 'info')};
pid $dir/nginx.pid;
${\ ($a{main} || '')}

events {
    worker_connections ${\ ($a{worker_connections} || 1024)};
}

http {
    # as the shipped configurations: no ?access_token= in access logs
    map \$request \$race_log_request {
        "~*^(?<race_log_a>[^?]*\\?(?:[^ ]*?&)?access_token=)[^ ]*(?<race_log_b>.*)\$"
            "\${race_log_a}[redacted]\$race_log_b";
        default \$request;
    }

    log_format race '\$remote_addr - \$remote_user [\$time_local] '
                    '"\$race_log_request" \$status \$body_bytes_sent '
                    '"\$http_referer" "\$http_user_agent"';

    access_log $dir/access.log race;
    client_body_temp_path $dir/client_body_temp;
    proxy_temp_path $dir/proxy_temp;
    fastcgi_temp_path $dir/fastcgi_temp;
    uwsgi_temp_path $dir/uwsgi_temp;
    scgi_temp_path $dir/scgi_temp;

${\ ($a{http} || '')}
}
EOF

    return $self->write_file($a{file} || 'nginx.conf', $conf);
}

sub nginx_argv {
    my ($self, $conf, @more) = @_;
    return ['/usr/sbin/nginx', '-p', "$self->{dir}/", '-c', $conf,
        '-e', "$self->{dir}/error.log", @more];
}

# nginx -t on a config: (exit code, output)
sub nginx_test {
    my ($self, %a) = @_;

    my $conf = $self->nginx_conf(%a, file => 'test.conf');

    # nginx refusing a config returns from main() without freeing its
    # first pool (1024 bytes, with or without our module): leaks are
    # checked on running servers; memory errors are still caught here
    my $env = $self->san_env('nginx-t', leaks => 0);
    local @ENV{keys %$env} = values %$env;

    my $argv = $self->nginx_argv($conf, '-t');
    my $out = `@$argv 2>&1`;
    return ($? >> 8, $out);
}

# starts nginx and waits for each port given in listen => [...]
sub nginx {
    my ($self, %a) = @_;

    my $conf = $self->nginx_conf(%a);
    $self->log_file("$self->{dir}/error.log");
    $self->log_file("$self->{dir}/nginx.out");

    $self->spawn(name => 'nginx', log => "$self->{dir}/nginx.out",
        argv => $self->nginx_argv($conf), env => $self->san_env('nginx'));

    for my $port (@{$a{listen} || []}) {
        $self->wait_port($port, 10)
            or die "nginx did not listen on $port:\n"
                . $self->read_file('error.log')
                . $self->read_file('nginx.out');
    }

    return $self;
}

sub stop_nginx {
    my ($self) = @_;
    # QUIT: a graceful stop lets the workers free what they hold
    $self->stop('nginx', signal => 'QUIT', grace => 15);
}

# the free assertions: no alert in any log, no sanitizer report
sub check_logs {
    my ($self) = @_;

    for my $log (@{$self->{logs}}) {
        my $text = $self->read_file($log);
        my @alerts = grep { /\[(alert|emerg|crit)\]/ } split /\n/, $text;
        my $name = $log;
        $name =~ s{.*/}{};
        ok(!@alerts, "no alerts in $name") or diag(join "\n", @alerts);
        my @san = grep { /$SAN/ } split /\n/, $text;
        ok(!@san, "no sanitizer report in $name") or diag(join "\n", @san);
    }

    my @outputs = @{$self->{outputs} || []};
    if (@outputs) {
        my @san = grep { /$SAN/ } map { split /\n/, $self->read_file($_) }
            @outputs;
        ok(!@san, 'no sanitizer report in the output of ' . @outputs
            . ' programs run') or diag(join "\n", @san);
    }

    my @reports;
    for my $prefix (@{$self->{san} || []}) {
        push @reports, glob("$prefix.*");
    }
    ok(!@reports, 'no sanitizer reports')
        or diag(join "\n", map { $self->read_file($_) } @reports);

    $self->check_secrets;
}

# no token or session of the test's in any log of the test: nginx's,
# the workers', the services', whatever is in the folder
sub check_secrets {
    my ($self) = @_;

    my @secrets = sort keys %SECRETS;
    return unless @secrets;

    my %seen;
    my @files = grep { -f && !$seen{$_}++ }
        @{$self->{logs}}, glob("$self->{dir}/*.log"),
        glob("$self->{dir}/*.out"), glob("$self->{dir}/*.asan.*");

    my @hits;
    for my $file (@files) {
        my $text = $self->read_file($file);
        my $name = $file;
        $name =~ s{.*/}{};
        for my $secret (@secrets) {
            next if index($text, $secret) < 0;
            my ($line) = grep { index($_, $secret) >= 0 } split /\n/, $text;
            push @hits, "$name: $line";
        }
    }

    ok(!@hits, 'no token in any log (' . @secrets . ' tokens, '
        . @files . ' logs)') or diag(join "\n", @hits);
}

# ends a test: stop everything, check the logs, close the plan
sub done {
    my ($self) = @_;
    $self->{done} = 1;
    $self->stop_nginx if $self->{procs}{nginx};
    $self->stop_all;
    $self->check_logs;
    done_testing();
}

# a test that dies midway is still checked for tokens in its logs, after
# its daemons stop: here if the harness is gone by then (a die at the
# top level frees it), or at END (Test::Builder's own END, defined
# earlier, runs later)
sub finish {
    my ($self) = @_;

    $self->{done} = 1;

    # a plan is set by done_testing() and skip_all: too late for tests
    return if !%SECRETS || defined Test2::API::test2_stack()->top->plan;

    $self->stop_nginx if $self->{procs}{nginx};
    $self->stop_all;
    $self->check_secrets;
}

END {
    my $status = $?;
    $_->finish for grep { defined && !$_->{done} } @LIVE;
    $? = $status;
}

1;
