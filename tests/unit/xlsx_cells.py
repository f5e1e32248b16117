#!/usr/bin/env python3
# xlsx_cells.py - open an XLSX with the standard library (zipfile,
# ElementTree) as a spreadsheet would, and print the first sheet's name and
# cells: "REF<TAB>TYPE<TAB>TEXT" per cell (TYPE "str" for a string cell,
# inline or shared, else the raw t attribute; _xHHHH_ escapes decoded; CR
# and LF shown as \r \n),
# then "formulas<TAB>N", the number of <f> elements. For test_export.c.
import re
import sys
import zipfile
import xml.etree.ElementTree as ET

NS = {'m': 'http://schemas.openxmlformats.org/spreadsheetml/2006/main'}


def text_of(el):
    # OOXML writes characters XML cannot hold (a CR, controls) as _xHHHH_; a spreadsheet decodes them
    raw = ''.join(t.text or '' for t in el.iter('{%s}t' % NS['m']))
    return re.sub(r'_x([0-9A-Fa-f]{4})_', lambda m: chr(int(m.group(1), 16)), raw)


with zipfile.ZipFile(sys.argv[1]) as z:
    assert z.testzip() is None
    wb = ET.fromstring(z.read('xl/workbook.xml'))
    print('sheet\t' + wb.find('m:sheets/m:sheet', NS).get('name'))
    shared = []
    if 'xl/sharedStrings.xml' in z.namelist():
        shared = [text_of(si) for si in ET.fromstring(z.read('xl/sharedStrings.xml')).findall('m:si', NS)]
    sheet = ET.fromstring(z.read('xl/worksheets/sheet1.xml'))
    for c in sheet.iter('{%s}c' % NS['m']):
        t = c.get('t')
        if t == 'inlineStr':
            kind, value = 'str', text_of(c.find('m:is', NS))
        elif t == 's':
            kind, value = 'str', shared[int(c.find('m:v', NS).text)]
        else:
            v = c.find('m:v', NS)
            kind, value = t or 'n', v.text if v is not None else ''
        print('%s\t%s\t%s' % (c.get('r'), kind, value.replace('\r', '\\r').replace('\n', '\\n')))
    print('formulas\t%d' % len(list(sheet.iter('{%s}f' % NS['m']))))
