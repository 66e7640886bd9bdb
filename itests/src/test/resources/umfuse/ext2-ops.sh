# Changes a tree at $1 with real tools; run natively on a copy and in a view on the mounted image.
set -e
D=$1
echo new > $D/new.txt
printf 'more\n' >> $D/a.txt
mkdir -p $D/n1/n2/n3
echo deep > $D/n1/n2/n3/f
mv $D/n1 $D/m1
mv $D/sub/x.txt $D/m1/moved.txt
rm $D/sub/y.txt
rmdir $D/emptydir
rm -r $D/tree
truncate -s 1000 $D/trunc.txt
truncate -s 3 $D/shrink.txt
chmod 600 $D/mode.txt
chmod 700 $D/sub
ln -s new.txt $D/sym
ln $D/new.txt $D/hard
touch -d @1000000000 $D/m1/moved.txt
seq 1 800000 > $D/big.bin
cp $D/big.bin $D/big2.bin
mv -f $D/big2.bin $D/over.txt
mkdir $D/dd && rmdir $D/dd
echo x > $D/tmp && rm $D/tmp
mkfifo $D/fifo
mv $D/untouched.txt $D/renamed-unread.txt
echo after > $D/m1/n2/later.txt
mv $D/keep $D/kept
exec 4> $D/fd.txt
echo one >&4
ls $D > /dev/null
echo two >&4
exec 4>&-
